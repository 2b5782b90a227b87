package httpapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/store/storetest"
)

// TestGraphQLOverHTTP holds the transport to the GraphQL over HTTP
// specification: the media type the Accept header asks for, 400 for a
// malformed request, 200 in application/json and 400 in
// application/graphql-response+json for a document that fails before it
// executes, and no data entry then.
func TestGraphQLOverHTTP(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	h := httpapitest.New(s, httpapi.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	const (
		jsonType = "application/json; charset=utf-8"
		gqlType  = "application/graphql-response+json; charset=utf-8"
		gqlMedia = "application/graphql-response+json"
	)
	get := func(params ...string) string {
		v := url.Values{}
		for i := 0; i < len(params); i += 2 {
			v.Set(params[i], params[i+1])
		}
		return "/graphql?" + v.Encode()
	}
	tests := []struct {
		name        string
		method      string
		target      string
		contentType string
		accept      string
		body        string
		wantStatus  int
		wantType    string
		wantData    bool // the response has a data entry
	}{
		{"no Accept", "POST", "/graphql", "application/json", "", `{"query":"{ __typename }"}`, 200, jsonType, true},
		{"Accept */*", "POST", "/graphql", "application/json", "*/*", `{"query":"{ __typename }"}`, 200, jsonType, true},
		{"Accept graphql-response+json", "POST", "/graphql", "application/json", gqlMedia, `{"query":"{ __typename }"}`, 200, gqlType, true},
		{"Accept both, json preferred", "POST", "/graphql", "application/json", gqlMedia + ";q=0.5, application/json", `{"query":"{ __typename }"}`, 200, jsonType, true},
		{"Accept both, equal", "POST", "/graphql", "application/json", "application/json, " + gqlMedia, `{"query":"{ __typename }"}`, 200, gqlType, true},
		{"Accept neither", "POST", "/graphql", "application/json", "text/html", `{"query":"{ __typename }"}`, 200, jsonType, true},
		{"null parameters", "POST", "/graphql", "application/json", "", `{"query":"{ __typename }","variables":null,"operationName":null,"extensions":null}`, 200, jsonType, true},
		{"no content type", "POST", "/graphql", "", "", `{"query":"{ __typename }"}`, 400, jsonType, false},
		{"form body", "POST", "/graphql", "application/x-www-form-urlencoded", "", `query=%7B+__typename+%7D`, 415, jsonType, false},
		{"empty body", "POST", "/graphql", "application/json", "", ``, 400, jsonType, false},
		{"body not JSON", "POST", "/graphql", "application/json", gqlMedia, `{"query":`, 400, gqlType, false},
		{"body a JSON array", "POST", "/graphql", "application/json", "", `[{"query":"{ __typename }"}]`, 400, jsonType, false},
		{"no query", "POST", "/graphql", "application/json", "", `{"qeury":"{ __typename }"}`, 400, jsonType, false},
		{"query not a string", "POST", "/graphql", "application/json", "", `{"query":{"obj":"ect"}}`, 400, jsonType, false},
		{"operationName not a string", "POST", "/graphql", "application/json", "", `{"query":"{ __typename }","operationName":0}`, 400, jsonType, false},
		{"variables not a map", "POST", "/graphql", "application/json", "", `{"query":"{ __typename }","variables":"x"}`, 400, jsonType, false},
		{"extensions not a map", "POST", "/graphql", "application/json", "", `{"query":"{ __typename }","extensions":[]}`, 400, jsonType, false},
		{"persisted query by hash alone", "POST", "/graphql", "application/json", "", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"0000"}}}`, 200, jsonType, false},
		{"parse failure, json", "POST", "/graphql", "application/json", "application/json", `{"query":"{"}`, 200, jsonType, false},
		{"parse failure, graphql-response", "POST", "/graphql", "application/json", gqlMedia, `{"query":"{"}`, 400, gqlType, false},
		{"validation failure, json", "POST", "/graphql", "application/json", "application/json", `{"query":"{ nope }"}`, 200, jsonType, false},
		{"validation failure, graphql-response", "POST", "/graphql", "application/json", gqlMedia, `{"query":"{ nope }"}`, 400, gqlType, false},
		{"variable coercion failure, json", "POST", "/graphql", "application/json", "application/json", `{"query":"query($id: ID!) { __typename }","variables":{"id":null}}`, 200, jsonType, false},
		{"variable coercion failure, graphql-response", "POST", "/graphql", "application/json", gqlMedia, `{"query":"query($id: ID!) { __typename }","variables":{"id":null}}`, 400, gqlType, false},
		{"GET query", "GET", get("query", "query($n: String!) { __type(name: $n) { name } }", "variables", `{"n":"Person"}`), "", gqlMedia, "", 200, gqlType, true},
		{"GET without query", "GET", get(), "", "", "", 400, jsonType, false},
		{"GET variables not JSON", "GET", get("query", "{ __typename }", "variables", "{"), "", "", "", 400, jsonType, false},
		{"GET mutation (the schema has none)", "GET", get("query", "mutation { __typename }"), "", gqlMedia, "", 400, gqlType, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.method == http.MethodPost {
				body = strings.NewReader(tt.body)
			}
			req := httptest.NewRequest(tt.method, tt.target, body)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if tt.wantType != "" && rec.Header().Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", rec.Header().Get("Content-Type"), tt.wantType)
			}
			var resp map[string]json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatalf("body is not JSON: %v\n%s", err, rec.Body.String())
			}
			if _, ok := resp["data"]; ok != tt.wantData {
				t.Errorf("data entry present = %v, want %v; body %s", ok, tt.wantData, rec.Body.String())
			}
			if _, ok := resp["errors"]; ok == tt.wantData {
				t.Errorf("errors entry present = %v, want %v; body %s", ok, !tt.wantData, rec.Body.String())
			}
		})
	}
}
