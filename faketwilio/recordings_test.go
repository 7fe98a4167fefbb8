package faketwilio_test

import (
	"testing"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/sounds/wav"
)

// A recording's duration is how long its samples play, as Twilio reports
// it: a WAV whose header is not the canonical 44 bytes (a LIST chunk of
// metadata, as many recorders write) does not count its metadata as audio,
// and a file that is not a WAV, or is torn, reports 0.
func TestRecordingDurationCountsOnlySamples(t *testing.T) {
	s := start(t, nil, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)
	fmtChunk := []byte{1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0} // 8 kHz mono 16-bit PCM
	twoSeconds := wav.Encode(fmtChunk, make([]byte, 32000))
	// The same two seconds with a 16,000-byte LIST chunk (a second's worth
	// of bytes) between the format and the samples.
	withList := append([]byte(nil), twoSeconds[:36]...)
	withList = append(withList, "LIST\x80\x3e\x00\x00"...)
	withList = append(withList, make([]byte, 16000)...)
	withList = append(withList, twoSeconds[36:]...)
	withList[4], withList[5] = byte(len(withList)-8), byte((len(withList)-8)>>8)
	withList[6], withList[7] = byte((len(withList)-8)>>16), 0
	for _, c := range []struct {
		name string
		wav  []byte
		want string
	}{
		{"Canonical", twoSeconds, "2"},
		{"LISTChunk", withList, "2"},
		{"Torn", twoSeconds[:len(twoSeconds)-1000], "0"},
		{"NotWAV", []byte("RIFF....WAVEfmt not really"), "0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sid, _ := s.AddRecording("CA0123456789abcdef0123456789abcdef", c.wav)
			rec, err := rc.Api.FetchRecording(sid, nil)
			if err != nil || rec.Duration == nil {
				t.Fatalf("FetchRecording: %v, %+v", err, rec)
			}
			if *rec.Duration != c.want {
				t.Errorf("duration %q, want %q", *rec.Duration, c.want)
			}
		})
	}
}
