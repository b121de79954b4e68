package core

import (
	"context"
	"sort"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/core/config"
)

// Check validates a config directory the way Run would load it, without
// serving: the files, every realm type, and every realm's own config (each
// plugin is started in validate-only mode, which does no I/O). It returns
// every problem found, warnings included (plugins' own, from cfg.Warn, too).
func Check(ctx context.Context, opts Options) config.Problems {
	logger := opts.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	s, problems := config.Load(opts.Dir)
	if s == nil {
		return problems
	}
	cat := NewCatalog(opts.Builtins, opts.Executable, s.Realmd)
	comps, planProblems := plan(s, cat)
	problems = append(problems, planProblems...)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range comps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ps, ws, err := Validate(ctx, c.spec, logger)
			mu.Lock()
			defer mu.Unlock()
			problems = append(problems, warningsOf(s, c, ws)...)
			if err != nil {
				problems = append(problems, startProblem(s, c, err))
				return
			}
			problems = append(problems, problemsOf(s, c, ps)...)
		}()
	}
	wg.Wait()
	if _, err := newRoleMapper(s); err != nil {
		problems = append(problems, config.Problem{File: config.RolesMappingFile, Message: err.Error()})
	}
	if s.Security.DisableRestAuth {
		problems = append(problems, config.Problem{File: config.ConfigFile, Key: "config.dynamic.disable_rest_auth",
			Message: "true would let every request through unauthenticated; realmd refuses it"})
	}
	sort.SliceStable(problems, func(i, j int) bool {
		if problems[i].File != problems[j].File {
			return problems[i].File < problems[j].File
		}
		return problems[i].Line < problems[j].Line
	})
	return distinctProblems(problems)
}
