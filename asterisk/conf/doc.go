// Package conf holds the sample Asterisk configuration for the support
// lines, as *.conf files in its folder (README: "Asterisk"): ARI and its
// HTTP server, the dialplan sending both numbers into the Stasis
// application with their line and falling back when no ivr serve is
// connected, a carrier trunk and a test softphone, RTP, hold music, the
// fallback's voicemail box and the modules all of it needs; and local.sh,
// which writes a loopback Asterisk on them for a newcomer's softphone. It
// has no code; its tests start a real Asterisk with the samples
// (placeholders and ports replaced, and through local.sh) and phone the
// lines through it with sipp, so that the samples cannot rot.
package conf
