package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// common holds the settings every command shares. Each comes from a flag,
// whose default is read from the environment, so that a flag wins over the
// variable and the variable over the built-in default.
type common struct {
	db       string
	logLevel string
}

func (c *common) register(fs *flag.FlagSet, env environ) {
	fs.StringVar(&c.db, "db", envOr(env, "IVR_DB", "ivr.db"), "SQLite file, or postgres://… URL (env IVR_DB)")
	fs.StringVar(&c.logLevel, "log-level", envOr(env, "IVR_LOG_LEVEL", "info"), "debug, info, warn or error (env IVR_LOG_LEVEL)")
}

func envOr(env environ, name, def string) string {
	if v := env.getenv(name); v != "" {
		return v
	}
	return def
}

// parse parses args into fs, printing usage errors to stderr.
func parse(fs *flag.FlagSet, args []string, env environ) error {
	fs.SetOutput(env.stderr)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		_, _ = fmt.Fprintf(env.stderr, "unexpected argument %q\n", fs.Arg(0)) // usage text, as in run
		fs.Usage()
		return errUsage
	}
	return nil
}

// newLogger returns the one logger: JSON lines in production, a readable
// console format when stderr is a terminal.
func newLogger(level string, env environ) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", level)
	}
	var encoder zapcore.Encoder
	if isTerminal(env.stderr) {
		cfg := zap.NewDevelopmentEncoderConfig()
		cfg.EncodeLevel = zapcore.CapitalColorLevelEncoder
		encoder = zapcore.NewConsoleEncoder(cfg)
	} else {
		cfg := zap.NewProductionEncoderConfig()
		cfg.EncodeTime = zapcore.ISO8601TimeEncoder
		encoder = zapcore.NewJSONEncoder(cfg)
	}
	core := zapcore.NewCore(encoder, zapcore.AddSync(env.stderr), lvl)
	return zap.New(core, zap.AddCaller()), nil
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// redact hides a URL's password for logs.
func redact(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return dsn
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	return scheme + "://" + user + ":***@" + rest[at+1:]
}
