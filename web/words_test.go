package web

import (
	"io/fs"
	"regexp"
	"testing"
)

// Every text the templates and handlers name has both its Russian and its
// English words: a missing key would show as the key itself.
func TestEveryKeyHasWords(t *testing.T) {
	keys := regexp.MustCompile(`\.T "([a-z0-9.-]+)"|translate\([a-z.]+, "([a-z0-9.-]+)"`)
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		b, _ := fs.ReadFile(files, n)
		for _, m := range keys.FindAllStringSubmatch(string(b), -1) {
			if _, ok := words[m[1]]; !ok {
				t.Errorf("%s names %q, which has no words", n, m[1])
			}
		}
	}
	for k, w := range words {
		if w[0] == "" || w[1] == "" {
			t.Errorf("%q lacks its Russian or its English", k)
		}
	}
}
