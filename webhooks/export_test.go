package webhooks

// MissingAudio exposes the start-up check of the prompts' audio to the
// external tests, with the audio look-up given.
var MissingAudio = missingAudio
