//go:build !race

package realmtest_test

const raceEnabled = false
