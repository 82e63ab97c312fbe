package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Versions returns the versions of the running binary: "levstudy" (the main module's version,
// with the VCS revision and "+dirty" when built from a modified checkout), "go" (runtime.Version)
// and the modules that compute the results: "gomlx", "compute" (GoMLX's backends), "go-xla" and "gonum"
// (each present when linked in). Unknown entries are "unknown".
func Versions() map[string]string {
	v := map[string]string{"levstudy": "unknown", "go": runtime.Version(), "gomlx": "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Path == "github.com/levstudy/levstudy" && bi.Main.Version != "" {
		v["levstudy"] = bi.Main.Version
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		v["levstudy"] += " " + rev[:min(12, len(rev))] + dirty
	}
	short := map[string]string{"github.com/gomlx/gomlx": "gomlx", "github.com/gomlx/compute": "compute",
		"github.com/gomlx/go-xla": "go-xla", "gonum.org/v1/gonum": "gonum"}
	for _, d := range bi.Deps {
		if name, ok := short[d.Path]; ok {
			v[name] = d.Version
			if d.Replace != nil {
				v[name] = d.Replace.Version
			}
		}
	}
	return v
}
