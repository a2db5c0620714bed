// The docs' Node.js webhook verifier (CV DeepMatch integration guide, "Verifying the webhook
// signature"), run unchanged by tests/test_webhook_docs_verifiers.py.
//
// Harness (ours): reads a JSON array of {header, body_b64, secret} on stdin and prints a JSON
// array of the verifier's answers. Each body is handed over as the exact bytes received.
// The docs' snippet below is copied verbatim between the markers; the bundle lost its
// opening line, so the harness supplies `function verifyWebhook(req, rawBody, secret) {`
// and the snippet's own last line closes it.
"use strict";
const crypto = require("crypto");

function verifyWebhook(req, rawBody, secret) {
// ---- begin: the docs' snippet, verbatim ----
const TOLERANCE_SECONDS = 300; // 5 minutes
const header = req.headers["x-cvdm-signature"]; // 't=,v1='
if (!header) return false;
const parts = Object.fromEntries(
header.split(",").map((p) => p.split("=").map((s) => s.trim())),
);
const ts = parts.t;
const v1 = parts.v1;
if (!ts || !v1) return false;
const now = Math.floor(Date.now() / 1000);
if (Math.abs(now - Number(ts)) > TOLERANCE_SECONDS) return false;
// rawBody MUST be the exact bytes off the wire (capture before any
// JSON.parse re-serialization).
const signed = `${ts}.${rawBody}`;
const expected = crypto
.createHmac("sha256", secret)
.update(signed, "utf8")
.digest("hex");
return crypto.timingSafeEqual(
Buffer.from(v1, "hex"),
Buffer.from(expected, "hex"),
);
}
// ---- end: the docs' snippet ----

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const answers = JSON.parse(input).map(({ header, body_b64, secret }) => {
    const req = { headers: { "x-cvdm-signature": header } };
    try {
      return verifyWebhook(req, Buffer.from(body_b64, "base64"), secret);
    } catch (err) {
      return `error: ${err.message}`;
    }
  });
  process.stdout.write(JSON.stringify(answers));
});
