//go:build wasip1

package spinhttp

// The core-module import of the unversioned fermyon:spin/http: the request
// record flattened (method, uri, headers, params, body option) and the
// return area.

//go:wasmimport fermyon:spin/http send-request
func sendRequest(method, uri, uriLen, headers, headersLen, params, paramsLen, hasBody, body, bodyLen, ret uint32)
