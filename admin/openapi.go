package admin

import (
	_ "embed"
	"net/http"
)

// OpenAPIPath is where the API's OpenAPI 3 description is served.
const OpenAPIPath = "/api/v1/openapi.json"

// openAPIDocument is the OpenAPI 3.0.3 description of every route this
// package registers; openapi_test.go keeps it true (every route documented,
// every documented operation registered, real requests and responses
// validated against it).
//
//go:embed openapi.json
var openAPIDocument []byte

// handleOpenAPI serves the description without a token: it says how to
// call the API, not anything held in it.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(openAPIDocument)
}
