// Package web owns the web app that every node serves at "/": the
// dashboard now, the workflow designer later.
//
// The app's source (TypeScript, React, Vite) lives in this folder and
// its built bundle, dist/, is committed and embedded with go:embed, so
// building, testing or running Casare needs no Node.js; `make web`
// rebuilds the bundle after a change to the source.
//
// The app routes with the browser's history API: a page load or a
// reload of /jobs/ID asks the server for that path, so Handler answers
// every path that is not a file of the bundle with index.html and lets
// the app pick the view. Paths under the API's prefixes (/api,
// /internal, /health, /metrics) are never the app's: Serves says so, and
// the API keeps answering unknown paths there with its JSON 404.
package web
