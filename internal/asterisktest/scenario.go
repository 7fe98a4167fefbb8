package asterisktest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Scenario writes the sipp scenario at path (such as
// asterisk/testdata/caller_waits.xml) into a folder of the test with a
// key press in place of its <!--keys--> for each of keys, sip-tester's
// audio linked beside it, and returns the copy's path.
func Scenario(tb testing.TB, path, keys string) string {
	tb.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	var b strings.Builder
	for i, k := range keys {
		file := fmt.Sprintf("key%d.pcap", i)
		writeKey(tb, filepath.Join(dir, file), k, i)
		fmt.Fprintf(&b, "<nop><action><exec play_pcap_audio=%q/></action></nop>\n  <pause milliseconds=\"400\"/>\n  ", file)
	}
	out := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(out, bytes.Replace(text, []byte("<!--keys-->"), []byte(b.String()), 1), 0o600); err != nil { //nolint:gosec // G703: the test's own temp dir
		tb.Fatal(err)
	}
	pcaps, _ := filepath.Glob("/usr/share/sip-tester/*.pcap")
	for _, p := range pcaps {
		if err := os.Symlink(p, filepath.Join(dir, filepath.Base(p))); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// writeKey writes the n-th key press of a call, key, as a pcap of RFC 4733
// events: sip-tester's dtmf_2833_<key>.pcap with its RTP sequence numbers
// and timestamp moved past those of the presses before it. sipp sends the
// packets as they are, and the files share one stream whose numbers follow
// the digits' order (1…9, *, #, 0): Asterisk takes a press that repeats an
// earlier one's timestamp for a repeat of the same event, and drops one
// whose numbers are older than the last.
func writeKey(tb testing.TB, path string, key rune, n int) {
	tb.Helper()
	name := map[rune]string{'#': "pound", '*': "star"}[key]
	if name == "" {
		name = string(key)
	}
	data, err := os.ReadFile("/usr/share/sip-tester/dtmf_2833_" + name + ".pcap")
	if err != nil {
		tb.Fatalf("the key %c: %v (install Debian's sip-tester)", key, err)
	}
	out := slices.Clone(data)
	const globalHeader, recordHeader, rtpAt = 24, 16, 14 + 20 + 8 // Ethernet, IPv4, UDP
	for off, i := globalHeader, 0; off+recordHeader <= len(out); i++ {
		size := int(binary.LittleEndian.Uint32(out[off+8:]))
		rtp := out[off+recordHeader+rtpAt : off+recordHeader+size]
		// n counts a call's keys and i a press's few packets: far from overflowing.
		binary.BigEndian.PutUint16(rtp[2:], uint16(20000+n*20+i))  //nolint:gosec // G115: see above
		binary.BigEndian.PutUint32(rtp[4:], uint32(200000+n*8000)) //nolint:gosec // G115: see above
		off += recordHeader + size
	}
	if err := os.WriteFile(path, out, 0o600); err != nil { //nolint:gosec // G703: the test's own temp dir
		tb.Fatal(err)
	}
}
