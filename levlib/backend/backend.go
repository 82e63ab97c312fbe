// Package backend chooses the GoMLX backend for levstudy's mains, tests and notebooks, and is the one
// place that links GoMLX's backends (XLA/PJRT and the pure-Go "simplego"), so that the levlib package
// itself stays free of them (as GoMLX's examples do).
//
// The choice, in order: an explicit configuration (a -backend flag), else $GOMLX_BACKEND, else XLA
// if a PJRT plugin is installed, else the pure-Go backend. GoMLX's own default would try to download
// a PJRT plugin from the internet; levstudy never downloads at run time, so auto-install is off and
// the fallback is reported in Selection.Note.
//
// Configurations: "go" (pure Go, which levstudy runs as "go:parallelism=N" with N = max(8, NumCPU) to
// keep its parallel mode from deadlocking; "go:ops_sequential" runs one op at a time), "xla:cpu", "xla:cuda", or an
// absolute path to a PJRT plugin ("xla:/path/pjrt_c_api_cuda_plugin.so"). PJRT plugins are searched
// in $PJRT_PLUGIN_LIBRARY_PATH, /usr/local/lib/go-xla and ~/.local/lib/go-xla.
package backend

import (
	"fmt"
	"os"
	"runtime"
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

// pureGo is the pure-Go backend's configuration used for "go": a worker pool of at least 8, so that its
// parallel mode cannot deadlock on graphs with several large independent DotGenerals (an operation
// waiting for workers holds one; with the default pool of 2·NumCPU that is reachable on 2 cores), at
// the speed of the default pool (measured: CNN training 148 vs 160 images/s; ops_sequential: 100).
func pureGo() string {
	return fmt.Sprintf("go:parallelism=%d", max(8, runtime.NumCPU()))
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
