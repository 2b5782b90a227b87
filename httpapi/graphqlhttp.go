package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"councilgraph/apierr"
)

// The response media types of GraphQL over HTTP.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// GraphQLHTTP is the GraphQL-over-HTTP transport for GET and POST
// (application/json bodies), answering as the GraphQL over HTTP
// specification (graphql.github.io/graphql-over-http) says, where gqlgen's
// own GET and POST transports differ from it:
//
//   - The response is application/graphql-response+json when the Accept
//     header prefers it, and application/json otherwise: with no Accept
//     header, with */* or application/*, and when Accept names neither.
//   - A request that is not a well-formed GraphQL-over-HTTP request gets
//     400, in either media type: a POST without Content-Type, a body that
//     is not one JSON object, a query that is missing (and not named by
//     extensions.persistedQuery) or not a string, an operationName that is
//     not a string, variables or extensions that are not maps. A POST body
//     of another media type than application/json gets 415.
//   - In application/json, every well-formed request gets 200, even when its
//     document does not parse or validate or its variables do not coerce;
//     the errors say why.
//   - In application/graphql-response+json, a request that fails before it
//     executes (so its response has no data entry) gets 400, or the status
//     its error code names: 401 UNAUTHENTICATED, 403 FORBIDDEN,
//     429 RATE_LIMITED, 500 INTERNAL, 503 SERVICE_UNAVAILABLE.
//   - GET runs queries only; a mutation over GET gets 405 with Allow: POST.
//   - GET and POST answers alike carry the caching headers decideCaching
//     chooses (a router caches by them, and sends every fetch as a POST);
//     a GET whose If-None-Match names the answer's ETag gets 304.
type GraphQLHTTP struct {
	// MaxAge is the max-age of anonymous queries' answers.
	MaxAge time.Duration
}

var _ graphql.Transport = GraphQLHTTP{}

// Supports claims GET and POST requests. It answers a POST whose body is not
// application/json itself (400 without a Content-Type, 415 with another), so
// add it after any transport that takes other bodies.
func (GraphQLHTTP) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") == "" && (r.Method == http.MethodGet || r.Method == http.MethodPost)
}

// Do executes one request.
func (t GraphQLHTTP) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	media := negotiate(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", media+"; charset=utf-8")

	start := graphql.Now()
	if r.Method == http.MethodPost {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil {
			writeErrors(w, http.StatusBadRequest, exec.DispatchError(ctx, gqlerror.List{{Message: "a POST needs Content-Type: application/json"}}))
			return
		}
		if mt != mediaJSON {
			writeErrors(w, http.StatusUnsupportedMediaType, exec.DispatchError(ctx, gqlerror.List{{Message: fmt.Sprintf("a POST body must be application/json, not %s", mt)}}))
			return
		}
	}
	params, err := readParams(r)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, exec.DispatchError(ctx, gqlerror.List{{Message: err.Error()}}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		status := http.StatusOK
		if media == mediaGraphQLResponse {
			status = statusWithoutData(resp.Errors)
		}
		writeErrors(w, status, resp)
		return
	}
	if r.Method == http.MethodGet && opCtx.Operation.Operation != ast.Query {
		w.Header().Set("Allow", http.MethodPost)
		writeErrors(w, http.StatusMethodNotAllowed, exec.DispatchError(ctx, gqlerror.List{{
			Message:    fmt.Sprintf("a %s cannot be sent with GET; use POST", opCtx.Operation.Operation),
			Extensions: map[string]any{"code": string(apierr.BadUserInput)},
		}}))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	body, err := json.Marshal(resp)
	if err != nil {
		apierr.Writef(w, apierr.Internal, "internal error: could not encode the response")
		return
	}
	if decideCaching(ctx, opCtx.Operation, resp, media, body, t.MaxAge).write(w, r) {
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// negotiate picks the response media type for an Accept header: the
// acceptable one with the highest quality, application/graphql-response+json
// on a tie, and application/json when the header is absent or accepts
// neither.
func negotiate(accept string) string {
	best, bestQ := mediaJSON, 0.0
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		var offer string
		switch mt {
		case mediaGraphQLResponse:
			offer = mediaGraphQLResponse
		case mediaJSON, "application/*", "*/*":
			offer = mediaJSON
		default:
			continue
		}
		if q > bestQ || (q == bestQ && q > 0 && offer == mediaGraphQLResponse) {
			best, bestQ = offer, q
		}
	}
	return best
}

// readParams reads a request's GraphQL parameters: from the query string of
// a GET, from the JSON body of a POST. Its errors say what is malformed.
func readParams(r *http.Request) (*graphql.RawParams, error) {
	if r.Method == http.MethodGet {
		return readGETParams(r.URL.RawQuery)
	}
	var body struct {
		Query         *string        `json:"query"`
		OperationName *string        `json:"operationName"`
		Variables     map[string]any `json:"variables"`
		Extensions    map[string]any `json:"extensions"`
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("could not read the request body: %w", err)
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, errors.New("the request body is empty; send a JSON object with a query")
	}
	if trimmed[0] == '[' {
		return nil, errors.New("the request body is a JSON array: batched requests are not supported; send one JSON object with a query")
	}
	if err := decodeJSON(raw, &body); err != nil {
		return nil, fmt.Errorf("the request body is not a GraphQL request: %s", jsonProblem(err))
	}
	p := &graphql.RawParams{Variables: body.Variables, Extensions: body.Extensions}
	if body.Query != nil {
		p.Query = *body.Query
	} else if !persisted(p) {
		return nil, errors.New("the request has no query")
	}
	if body.OperationName != nil {
		p.OperationName = *body.OperationName
	}
	return p, nil
}

func readGETParams(rawQuery string) (*graphql.RawParams, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("the query string is malformed: %w", err)
	}
	p := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
	if v := q.Get("variables"); v != "" {
		if err := decodeJSON([]byte(v), &p.Variables); err != nil {
			return nil, fmt.Errorf("variables must be a JSON object: %s", jsonProblem(err))
		}
	}
	if v := q.Get("extensions"); v != "" {
		if err := decodeJSON([]byte(v), &p.Extensions); err != nil {
			return nil, fmt.Errorf("extensions must be a JSON object: %s", jsonProblem(err))
		}
	}
	if !q.Has("query") && !persisted(p) {
		return nil, errors.New("the request has no query parameter")
	}
	return p, nil
}

// persisted says whether p names its document by hash (an automatic
// persisted query) instead of sending it.
func persisted(p *graphql.RawParams) bool {
	_, ok := p.Extensions["persistedQuery"]
	return ok
}

// jsonProblem says what is wrong with a request's JSON in the request's
// own terms, never the decoder's Go types.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		want := map[string]string{"query": "a string", "operationName": "a string", "variables": "a JSON object", "extensions": "a JSON object"}
		if w, ok := want[typeErr.Field]; ok {
			return fmt.Sprintf("%s must be %s, not %s", typeErr.Field, w, typeErr.Value)
		}
		if typeErr.Field == "" {
			return fmt.Sprintf("it must be a JSON object, not %s", typeErr.Value)
		}
		return fmt.Sprintf("%s must not be %s", typeErr.Field, typeErr.Value)
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return fmt.Sprintf("it is not valid JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	}
	return err.Error()
}

// decodeJSON decodes exactly one JSON value, keeping numbers as json.Number
// as gqlgen's coercion expects.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// statusWithoutData is the application/graphql-response+json status of a
// response that has errors and no data: the first error's code's status
// other than BAD_USER_INPUT's, else 400.
func statusWithoutData(errs gqlerror.List) int {
	for _, e := range errs {
		c, _ := e.Extensions["code"].(string)
		if st := apierr.Status(apierr.Code(c)); st != http.StatusBadRequest && st != http.StatusNotFound {
			return st
		}
	}
	return http.StatusBadRequest
}

// writeErrors writes the response of a request that failed before it
// executed: errors, and extensions if any, but no data entry.
// writeErrors writes an answer of errors alone, which no cache keeps.
func writeErrors(w http.ResponseWriter, status int, resp *graphql.Response) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Errors, resp.Extensions})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		apierr.Writef(w, apierr.Internal, "internal error: could not encode the response")
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
