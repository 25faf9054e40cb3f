/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * squeezed's protocol as XML-RPC: what xenopsd's Memory_client sends when
 * use-switch is false (ocaml/xapi-idl/memory/memory_client.ml, `rpc`:
 * xml_http_rpc to "file:" ^ Memory_interface.xml_path, "/var/xapi/memory";
 * xen-api e2ee48d6883e0b98c4d219d3f0778a10c6655607). Its bodies are
 * ocaml-rpc's Xmlrpc encoding (mirage/ocaml-rpc src/lib/xmlrpc.ml, commit
 * 1b9c151fdde4e3cbaedc362b7b609af17a32b5d2):
 *
 *   call      <?xml version="1.0"?><methodCall><methodName>reserve_memory
 *             </methodName><params><param><value>dbg</value></param>...
 *             </params></methodCall>
 *   success   <?xml version="1.0"?><methodResponse><params><param><value>
 *             <struct><member><name>Status</name><value>Success</value>
 *             </member><member><name>Value</name>VALUE</member></struct>
 *             </value></param></params></methodResponse>
 *   failure   the same with Status Failure and ErrorDescription: the error
 *             in the same Rpc.t shape as the JSON path's "error" member.
 *
 * Values map to the JSON values the daemon already dispatches (jansson), as
 * ocaml-rpc's Rpc.t sits between its two encodings: an integer is written
 * untagged, <value>42</value> (Xmlrpc.add_value, Int), and so reads back as
 * the string "42", which the methods accept as ocaml-rpc's int64_of_rpc does
 * (rpc.h, xfd_arg_int); <i4>, <int>, <i8> read as integers; strings are
 * untagged, escaped as Xmlrpc.encode does (&lt; &gt; &amp; &quot;; control
 * bytes other than tab, LF and CR dropped); <nil/> is null; <boolean> is
 * true only for "1"; <double> is a real written with %.16g; an array is
 * <array><data>, a struct <struct> of <member>s. <dateTime.iso8601> reads as
 * a string (ocaml-rpc's Jsonrpc writes DateTime so). Not accepted: <base64>
 * (no memory method uses it), a DOCTYPE (ocaml-rpc skips it; entities are a
 * risk worth refusing), duplicate struct members (the JSON path refuses
 * duplicate keys too), nesting deeper than XFD_XMLRPC_MAX_DEPTH.
 *
 * The XML is parsed by expat (libexpat1-dev), not by hand; this file only
 * walks the element tree it builds. Nothing here touches sockets.
 */
#ifndef XENFITD_XMLRPC_H
#define XENFITD_XMLRPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define XFD_XMLRPC_MAX_DEPTH 64u

/* Room for the message that says what was wrong with a document. */
#define XFD_XMLRPC_ERRLEN 256u

/*
 * Whether a request body is XML: its first byte that is not a space, tab,
 * CR or LF is '<'. That, not Content-Type, decides: xenopsd's client sends
 * none (ocaml/xapi-idl/lib/xcp_client.ml, http_rpc: User-agent and
 * content-length only), and no JSON text starts with '<'.
 */
bool xfd_xmlrpc_is_xml(const char *body, size_t len);

/*
 * Decodes a <methodCall>. Returns 0 with *ret_method (free()) and
 * *ret_params (a JSON array, the caller's reference), or XF_EPARSE with a
 * sentence in err[errlen] (nothing returned), or -ENOMEM.
 */
int xfd_xmlrpc_decode_call(const char *body, size_t len, char **ret_method, json_t **ret_params,
                           char *err, size_t errlen);

/*
 * Decodes a <methodResponse> as ocaml-rpc's Xmlrpc.response_of_string does:
 * a Status/Value struct is a success, Status/ErrorDescription a failure, any
 * other value a success of that value, a <fault> the failure ["fault",
 * faultCode, faultString]. Returns 0 with *ret_success and *ret_value (the
 * caller's reference), XF_EPARSE with err, or -ENOMEM.
 */
int xfd_xmlrpc_decode_response(const char *body, size_t len, bool *ret_success, json_t **ret_value,
                               char *err, size_t errlen);

/* Appends one <value>...</value> for v (not const only because jansson's
 * object iteration is not; v is only read). Returns 0, XF_EINVAL for a value
 * nested deeper than XFD_XMLRPC_MAX_DEPTH, or -ENOMEM; out is unchanged on
 * failure. */
int xfd_xmlrpc_encode_value(struct xfd_buf *out, json_t *v);

/* Appends a <methodCall> (params: a JSON array). Returns as above. */
int xfd_xmlrpc_encode_call(struct xfd_buf *out, const char *method, json_t *params);

/* Appends a <methodResponse>: Success and value, or Failure and the error.
 * Returns as above. */
int xfd_xmlrpc_encode_response(struct xfd_buf *out, bool success, json_t *value);

#endif
