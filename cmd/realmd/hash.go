package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/realmd/realmd/core/config"
	"github.com/realmd/realmd/plugins/basic"
)

// maxPasswordBytes bounds what hash reads from stdin.
const maxPasswordBytes = 4096

// hash reads a password from stdin and prints an OpenSearch-compatible hash.
func hash(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hash", flag.ContinueOnError)
	algorithm := fs.String("algorithm", "", "bcrypt, pbkdf2 or argon2 (default: realmd.yml's password_hashing.algorithm, else bcrypt)")
	dir := fs.String("config", "", "config directory whose realmd.yml sets the hashing parameters")
	if code, ok := parseFlags(fs, args, stdout, stderr, func(*flag.FlagSet, string) string {
		return "the password is read from standard input, never from the command line"
	}); !ok {
		return code
	}
	opts := basic.DefaultHashOptions()
	if *dir != "" {
		s, problems := config.Load(*dir)
		if err := problems.Err(); err != nil {
			fmt.Fprintf(stderr, "realmd hash: %s has problems:\n%v\n", *dir, err)
			return 1
		}
		opts = hashOptions(s.Realmd.PasswordHashing)
	}
	switch *algorithm {
	case "":
	case "bcrypt", "pbkdf2", "argon2":
		opts.Algorithm = *algorithm
	default:
		fmt.Fprintf(stderr, "realmd hash: --algorithm %q: must be bcrypt, pbkdf2 or argon2\n", *algorithm)
		return 2
	}
	password, err := readPassword(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "realmd hash: %v\n", err)
		return 1
	}
	h, err := basic.Hash(password, opts)
	if err != nil {
		fmt.Fprintf(stderr, "realmd hash: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, h)
	return 0
}

// readPassword reads the first line of stdin, without its line ending.
func readPassword(r io.Reader) ([]byte, error) {
	line, err := bufio.NewReader(io.LimitReader(r, maxPasswordBytes+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading the password from stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return nil, errors.New("no password on stdin; try: echo -n 'secret' | realmd hash")
	}
	if len(line) > maxPasswordBytes {
		return nil, fmt.Errorf("the password is longer than %d bytes", maxPasswordBytes)
	}
	return []byte(line), nil
}

func hashOptions(h config.PasswordHashing) basic.HashOptions {
	return basic.HashOptions{
		Algorithm: h.Algorithm,
		BCrypt:    basic.BCryptOptions{Rounds: h.BcryptRounds, Minor: h.BcryptMinor},
		PBKDF2:    basic.PBKDF2Options{Function: h.PBKDF2Function, Iterations: h.PBKDF2Iterations, Length: h.PBKDF2Length},
		Argon2: basic.Argon2Options{Memory: h.Argon2Memory, Iterations: h.Argon2Iterations, Parallelism: h.Argon2Parallelism,
			Length: h.Argon2Length, Type: h.Argon2Type, Version: h.Argon2Version},
	}
}
