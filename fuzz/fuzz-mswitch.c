/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * libFuzzer target for what xenfitd reads from message-switch
 * (daemon/mswitch.h): a transfer's answer, parsed (bytes that are not UTF-8
 * read as U+FFFD) and each of its messages classified, as the switch thread
 * does before it answers or acks. Checked on every input:
 * - the UTF-8 repair's output is valid UTF-8 (jansson accepts it as a JSON
 *   string), is the input itself when the input was valid, and repairing
 *   it again changes nothing;
 * - a parsed answer has "messages" an array and "next" a string;
 * - a message classified as a request has a reply queue and a payload whose
 *   length is the JSON string's; its id's queue is a string.
 * The sockets, the thread and the hand-over are tested by daemon-mswitch.
 *
 * Build and run: docs/daemon.md, "Fuzzing".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mswitch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_repair(const char *in, size_t len)
{
    struct xfd_buf a = {0}, b = {0};
    json_t *s, *t;

    if (xfd_mswitch_repair_utf8(in, len, &a) < 0)
        abort();
    s = json_stringn(a.p ? a.p : "", a.len); /* NULL unless valid UTF-8 */
    if (!s)
        abort();
    json_decref(s);
    if ((t = json_stringn(in, len)) != NULL) {
        /* Valid input: unchanged. */
        if (a.len != len || (len && memcmp(a.p, in, len) != 0))
            abort();
        json_decref(t);
    }
    if (xfd_mswitch_repair_utf8(a.p ? a.p : "", a.len, &b) < 0 || b.len != a.len ||
        (a.len && memcmp(a.p, b.p, a.len) != 0))
        abort();
    xfd_buf_free(&a);
    xfd_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    json_t *out = NULL, *msgs;
    size_t i;

    xfd_log_set_level(XFD_LOG_ERROR); /* the repair's warning, not per input */
    check_repair(text, size);
    if (xfd_mswitch_parse_transfer(text, size, &out) < 0)
        return 0;
    msgs = json_object_get(out, "messages");
    if (!json_is_array(msgs) || !json_is_string(json_object_get(out, "next")))
        abort();
    for (i = 0; i < json_array_size(msgs); i++) {
        struct xfd_mswitch_msg m;
        if (xfd_mswitch_classify(json_array_get(msgs, i), &m) < 0)
            continue;
        if (!m.queue)
            abort();
        if (m.kind == XFD_MSWITCH_REQUEST &&
            (!m.reply_to || !m.payload ||
             m.payload_len != json_string_length(json_object_get(
                                  json_array_get(json_array_get(msgs, i), 1), "payload"))))
            abort();
    }
    json_decref(out);
    return 0;
}
