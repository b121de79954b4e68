package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/core"
	"github.com/realmd/realmd/core/config"
	"github.com/realmd/realmd/examples/quickstart"
	"github.com/realmd/realmd/sdk"
)

func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	dir := fs.String("config", "", "config directory (default: the embedded quickstart)")
	listen := fs.String("listen", "", "listen address, overrides realmd.yml (e.g. 127.0.0.1:9200)")
	level := fs.String("log-level", envOr(logLevelEnv, "info"), "log level: trace, debug, info, warn, error or off; "+logLevelEnv+" sets the default")
	logJSON := fs.Bool("log-json", false, "log JSON lines")
	watch := fs.Bool("watch", true, "reload when the config files change")
	if code, ok := parseFlags(fs, args, stdout, stderr, configHint); !ok {
		return code
	}
	lvl, ok := parseLevel(*level)
	if !ok {
		source := "--log-level"
		if !flagSet(fs, "log-level") {
			source = logLevelEnv // the default came from the environment
		}
		fmt.Fprintf(stderr, "realmd serve: %s %q: must be trace, debug, info, warn, error or off\n", source, *level)
		return 2
	}
	*level = lvl.String()
	logger := newLogger(*level, *logJSON, stderr)
	servePprof(logger)
	sdk.KeepHeapFloor(sdk.HeapFloor)
	if *dir == "" {
		tmp, err := quickstart.Extract()
		if err != nil {
			logger.Error("extracting the quickstart config", "error", err)
			return 1
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
		logger.Info("no --config given; serving the embedded quickstart config", "dir", tmp)
	}
	exe, err := os.Executable()
	if err != nil {
		logger.Error("finding the realmd executable", "error", err)
		return 1
	}
	os.Setenv(sdk.LogLevelEnv, *level) // plugins inherit realmd's level

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := core.New(core.Options{Dir: *dir, Listen: *listen, Builtins: builtins(), Executable: exe, Logger: logger, Watch: *watch})
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP) // before anything else: an early SIGHUP must not kill realmd
	defer signal.Stop(hup)
	go reloadOnHUP(ctx, d, hup)
	if err := d.Run(ctx); err != nil {
		var ps config.Problems
		if errors.As(err, &ps) {
			fmt.Fprintf(stderr, "realmd: the config in %s has problems:\n%s\n", *dir, ps.Error())
			return 1
		}
		logger.Error("realmd stopped", "error", err)
		return 1
	}
	return 0
}

// reloadOnHUP forces a reload on each SIGHUP.
func reloadOnHUP(ctx context.Context, d *core.Daemon, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_, _ = d.ReloadForSignal(ctx)
		}
	}
}

// logLevelEnv sets serve's log level when --log-level is not given.
const logLevelEnv = "REALMD_LOG_LEVEL"

// parseLevel reads a log level, ignoring case. hclog.LevelFromString
// returns NoLevel for a name it does not know, which logged at info
// without a word, so "--log-level verbose" looked accepted.
func parseLevel(s string) (hclog.Level, bool) {
	switch l := hclog.LevelFromString(s); l {
	case hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error, hclog.Off:
		return l, true
	}
	return hclog.NoLevel, false
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
