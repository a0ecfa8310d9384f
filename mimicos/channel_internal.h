/*
 * channel_internal.h - what the channel's files share, not part of the API
 * (channel.h): the server of channel.c, run in the caller's process by the
 * in-process mode and in a child by the out-of-process one
 * (channel_transport.c).
 */
#ifndef MIMICOS_CHANNEL_INTERNAL_H
#define MIMICOS_CHANNEL_INTERNAL_H

#include <stddef.h>

#include "mimicos/channel.h"

/* Where a request's records go, one call per record in program order. */
typedef void (*channel_emit_fn)(void *ctx, const struct kstream_rec *r);

/*
 * The instance cfg describes: the zone, khugepaged, the policy, the event
 * log when cfg->events_path is set, and cfg->nr_mms empty mms. 0 and *out
 * set, or -ENOMEM, -EINVAL (unknown policy), -EIO (the event log) or what
 * the instance's init gave.
 */
int channel_server_create(struct channel_server **out, const struct channel_config *cfg);
/* Release what channel_server_create() built (teardown's checks run). NULL is a no-op. */
void channel_server_destroy(struct channel_server *srv);

/*
 * Run one request for 'core' into rs; its records go to fn(ctx, rec)
 * (fn NULL: they are counted only).
 */
void channel_server_execute(struct channel_server *srv, unsigned int core,
			    const struct mimicos_request *rq, struct mimicos_response *rs,
			    channel_emit_fn fn, void *ctx);

/* Make room for 'want' records in ks. 0 or -ENOMEM. */
int kstream_grow(struct kstream *ks, size_t want);

/* The out-of-process mode (channel_transport.c). */
extern const struct channel_ops channel_oop_ops;

#endif
