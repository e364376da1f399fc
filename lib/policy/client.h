/*
 * Blocking client of alpr-matchd's control socket (doc/protocol.md,
 * REQUEST/REPLY).  Answers arrive through the same callback type as
 * policy_control()'s, so a caller handles a socket and --offline alike.
 */
#ifndef ALPR_POLICY_CLIENT_H
#define ALPR_POLICY_CLIENT_H

#include "policy/policy.h"

struct policy_client;

/* Connects to path and exchanges HELLO (role ctl); timeout per wait. */
int policy_client_connect(const char *path, int timeout_ms, struct policy_client **ret);
struct policy_client *policy_client_free(struct policy_client *c);
/*
 * Sends request and passes each REPLY body to emit (more is true on all
 * but the last; fd is the message's descriptor or -1, closed after emit
 * returns).  Returns 0, or -errno if the connection failed or emit did.
 */
int policy_client_call(struct policy_client *c, const json_t *request, policy_emit_fn emit,
    void *userdata);

#endif
