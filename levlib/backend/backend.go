// Package backend chooses the GoMLX backend for levstudy's mains, tests and notebooks, and is the one
// place that links GoMLX's backends (XLA/PJRT and the pure-Go "simplego"), so that the levlib package
// itself stays free of them (as GoMLX's examples do).
//
// The choice, in order: an explicit configuration (a -backend flag), else $GOMLX_BACKEND, else XLA
// if a PJRT plugin is installed, else the pure-Go backend. GoMLX's own default would try to download
// a PJRT plugin from the internet; levstudy never downloads at run time, so auto-install is off and
// the fallback is reported in Selection.Note.
//
// Configurations: "go" (pure Go, which levstudy runs as "go:parallelism=-1" to keep its parallel mode
// from deadlocking; "go:ops_sequential" runs one op at a time), "xla:cpu", "xla:cuda", or an
// absolute path to a PJRT plugin ("xla:/path/pjrt_c_api_cuda_plugin.so"). PJRT plugins are searched
// in $PJRT_PLUGIN_LIBRARY_PATH, /usr/local/lib/go-xla and ~/.local/lib/go-xla.
package backend

import (
	"fmt"
	"os"
	"strings"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // registers "go"
	"github.com/gomlx/go-xla/compute/xla"  // registers "xla"
)

func init() {
	// levstudy never downloads at run time; $GOMLX_XLA_AUTOINSTALL=1 restores GoMLX's behaviour.
	if os.Getenv("GOMLX_XLA_AUTOINSTALL") != "1" {
		xla.EnableAutoInstall(false)
	}
}

// Selection is the chosen backend.
type Selection struct {
	Backend compute.Backend
	// Config is the configuration string that created Backend (e.g. "go", "xla:cuda").
	Config string
	// Note, if not empty, is one line to show the user: why this backend was chosen over the default,
	// and for the pure-Go backend which matrix-product kernels it uses (MatMulPath).
	Note string
}

// New returns the backend for config: config if not empty, else $GOMLX_BACKEND, else XLA with an
// installed PJRT plugin (CUDA preferred), else the pure-Go backend with a Note that says so. An
// explicit configuration that fails is an error that says what was looked for.
func New(config string) (*Selection, error) {
	if config == "" {
		config = os.Getenv(compute.ConfigEnvVar)
	}
	if config == "go" {
		config = pureGo()
	}
	if config != "" {
		b, err := newWithConfig(config)
		if err != nil {
			return nil, explain(config, err)
		}
		sel := &Selection{Backend: b, Config: config}
		if strings.HasPrefix(config, "go") {
			sel.Note = "levstudy: pure-Go GoMLX backend, " + MatMulPath()
		}
		return sel, nil
	}
	if plugins := xla.GetAvailablePlugins(); len(plugins) > 0 {
		cfg := "xla:" + plugins[0]
		b, err := newWithConfig(cfg)
		if err == nil {
			return &Selection{Backend: b, Config: cfg}, nil
		}
		return fallback(fmt.Sprintf("XLA plugin %q failed (%v)", plugins[0], firstLine(err)))
	}
	return fallback("no XLA/PJRT plugin installed")
}

// pureGo is the pure-Go backend's configuration used for "go": an unlimited worker pool. With a bounded
// pool (GoMLX's default 2·NumCPU, or any fixed size) its parallel mode deadlocks on graphs with several
// large independent DotGenerals: each running operation holds a worker while it waits for more workers
// to split its product (workerspool.Saturate), and when all workers are held that way none is released.
// Measured with GoMLX v0.28.1 / compute v0.1.0: the leverage projection pass (10 independent block
// products) hangs with parallelism=8 and runs with parallelism=-1, which is also the fastest setting
// (MNIST RAW leverage 2.1 s vs 2.5 s with ops_sequential).
func pureGo() string {
	return "go:parallelism=-1"
}

func fallback(why string) (*Selection, error) {
	cfg := pureGo()
	b, err := newWithConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Selection{Backend: b, Config: cfg,
		Note: fmt.Sprintf("levstudy: %s; using the pure-Go GoMLX backend, %s (set -backend or GOMLX_BACKEND to choose)",
			why, MatMulPath())}, nil
}

// newWithConfig calls compute.NewWithConfig, turning its panics (unknown backend) into errors. The
// pure-Go backend prints "parallelism set to N" on standard output when given that option, which
// would corrupt output written there (leverage -out -): standard output is muted meanwhile.
func newWithConfig(config string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	if strings.Contains(config, "parallelism=") {
		if null, err := os.Open(os.DevNull); err == nil {
			stdout := os.Stdout
			os.Stdout = null
			defer func() { os.Stdout = stdout; null.Close() }()
		}
	}
	return compute.NewWithConfig(config)
}

func explain(config string, err error) error {
	if strings.HasPrefix(config, "xla") || strings.HasPrefix(config, "stablehlo") {
		return fmt.Errorf("backend %q: %s\n  looked for PJRT plugins in $PJRT_PLUGIN_LIBRARY_PATH (%q), /usr/local/lib/go-xla, ~/.local/lib/go-xla and the system library path;\n  install one with GoMLX's installer (github.com/gomlx/go-xla), or point PJRT_PLUGIN_LIBRARY_PATH at an existing JAX installation's plugin (jax_plugins/xla_cuda*/), or use -backend go",
			config, firstLine(err), os.Getenv("PJRT_PLUGIN_LIBRARY_PATH"))
	}
	return fmt.Errorf("backend %q: %s (known backends: go, go:ops_sequential, xla:cpu, xla:cuda)", config, firstLine(err))
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
