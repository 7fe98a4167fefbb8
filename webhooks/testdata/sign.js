// Prints, for each case on stdin (JSON [{url, params}]), the signature
// Twilio's official Node helper expects, and whether its validateRequest
// accepts a signature Go computed. Run by node_test.go.
const { getExpectedTwilioSignature, validateRequest } = require('twilio/lib/webhooks/webhooks');
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const { token, cases } = JSON.parse(input);
  const out = cases.map((c) => ({
    signature: getExpectedTwilioSignature(token, c.url, c.params),
    goAccepted: validateRequest(token, c.goSignature, c.url, c.params),
  }));
  process.stdout.write(JSON.stringify(out));
});
