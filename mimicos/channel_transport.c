/*
 * channel_transport.c - the out-of-process mode (channel.h): the server
 * process fork()ed by channel_open(), and the MAP_SHARED region through
 * which clients post requests and the server returns responses and
 * streams, woken by futexes.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mimicos/channel.h"
#include "mimicos/channel_internal.h"

enum { SLOT_IDLE, SLOT_POSTED, SLOT_DONE };
enum { SERVER_STARTING, SERVER_READY, SERVER_FAILED };

/* Per core, in the shared region; futex words are 32-bit. */
struct chan_slot {
	_Atomic uint32_t state;		/* SLOT_*, client posts, server completes */
	_Atomic uint32_t cev;		/* server -> client wake-ups (futex) */
	_Atomic uint32_t client_waiting;
	_Atomic uint32_t head;		/* stream ring: server produces */
	_Atomic uint32_t tail;		/* client consumes (futex for the server) */
	_Atomic uint32_t server_waiting;
	uint32_t want_stream;
	uint32_t reserved;
	uint64_t seq;
	struct mimicos_request rq;
	struct mimicos_response rs;
} __attribute__((aligned(64)));

struct channel_shm {
	_Atomic uint32_t doorbell;	/* clients -> server (futex) */
	_Atomic uint32_t server_waiting;
	_Atomic uint32_t ready;		/* SERVER_* (futex) */
	_Atomic uint32_t shutdown;
	_Atomic uint64_t next_seq;	/* posting order */
	int32_t init_err;
	uint32_t cores, ring_records;
	size_t slots_off, rings_off;
};

#define CLIENT_POLL_NS	20000000L	/* check the server is alive this often */
#define SERVER_POLL_NS	1000000000L	/* check the parent is alive this often */

static int futex_wait(_Atomic uint32_t *w, uint32_t val, long timeout_ns)
{
	struct timespec ts = { .tv_sec = timeout_ns / 1000000000L,
			       .tv_nsec = timeout_ns % 1000000000L };

	if (syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, val, &ts, NULL, 0) < 0)
		return -errno;
	return 0;
}

static void futex_wake(_Atomic uint32_t *w)
{
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static struct chan_slot *slot_of(struct channel_shm *shm, unsigned int core)
{
	return (struct chan_slot *)((char *)shm + shm->slots_off) + core;
}

static struct kstream_rec *ring_of(struct channel_shm *shm, unsigned int core)
{
	return (struct kstream_rec *)((char *)shm + shm->rings_off) +
	       (size_t)core * shm->ring_records;
}

static void notify_client(struct chan_slot *slot)
{
	atomic_fetch_add(&slot->cev, 1);
	if (atomic_load(&slot->client_waiting))
		futex_wake(&slot->cev);
}

struct ring_sink {
	struct chan_slot *slot;
	struct kstream_rec *ring;
	uint32_t size, head;
	pid_t parent;
};

/* Producer side: wait while the ring is full (the client empties it). */
static void ring_emit(void *ctx, const struct kstream_rec *r)
{
	struct ring_sink *s = ctx;
	struct chan_slot *slot = s->slot;

	while (s->head - atomic_load(&slot->tail) >= s->size) {
		uint32_t t;

		notify_client(slot);
		atomic_store(&slot->server_waiting, 1);
		t = atomic_load(&slot->tail);
		if (s->head - t >= s->size &&
		    futex_wait(&slot->tail, t, SERVER_POLL_NS) == -ETIMEDOUT &&
		    getppid() != s->parent)
			_exit(1);
		atomic_store(&slot->server_waiting, 0);
	}
	s->ring[s->head & (s->size - 1)] = *r;
	s->head++;
	atomic_store_explicit(&slot->head, s->head, memory_order_release);
}

static void server_loop(struct channel_server *srv, struct channel_shm *shm, pid_t parent)
{
	uint64_t next = 0;

	for (;;) {
		uint32_t bell = atomic_load(&shm->doorbell);
		bool served = false;

		if (atomic_load(&shm->shutdown))
			return;
		for (unsigned int c = 0; c < shm->cores; c++) {
			struct chan_slot *slot = slot_of(shm, c);
			struct ring_sink sink;

			if (atomic_load(&slot->state) != SLOT_POSTED || slot->seq != next)
				continue;
			sink = (struct ring_sink){ slot, ring_of(shm, c), shm->ring_records,
						   atomic_load(&slot->head), parent };
			channel_server_execute(srv, c, &slot->rq, &slot->rs,
				       slot->want_stream ? ring_emit : NULL, &sink);
			atomic_store(&slot->state, SLOT_DONE);
			notify_client(slot);
			next++;
			served = true;
		}
		if (served)
			continue;
		atomic_store(&shm->server_waiting, 1);
		if (futex_wait(&shm->doorbell, bell, SERVER_POLL_NS) == -ETIMEDOUT &&
		    getppid() != parent)
			_exit(1);
		atomic_store(&shm->server_waiting, 0);
	}
}

static void __attribute__((noreturn)) server_main(struct mimicos_channel *ch, pid_t parent)
{
	struct channel_shm *shm = ch->shm;
	struct channel_server *srv;
	int err;

	/* Die with the simulator; it may have died before prctl(). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	err = channel_server_create(&srv, &ch->cfg);
	shm->init_err = err;
	atomic_store(&shm->ready, err ? SERVER_FAILED : SERVER_READY);
	futex_wake(&shm->ready);
	if (err)
		_exit(1);
	server_loop(srv, shm, parent);
	channel_server_destroy(srv);
	_exit(0);
}

/* Client side: has the server gone? Reaps it when it has. */
static bool server_alive(struct mimicos_channel *ch)
{
	bool alive;

	pthread_mutex_lock(&ch->reap_lock);
	if (!ch->server_gone) {
		int status;
		pid_t r = waitpid(ch->pid, &status, WNOHANG);

		if (r == ch->pid) {
			ch->server_gone = 1;
			ch->server_status = status;
		} else if (r < 0 && errno == ECHILD) {
			ch->server_gone = 1;
		}
	}
	alive = !ch->server_gone;
	pthread_mutex_unlock(&ch->reap_lock);
	return alive;
}

static void free_core_locks(struct mimicos_channel *ch)
{
	for (unsigned int c = 0; c < ch->cfg.cores; c++)
		pthread_mutex_destroy(&ch->core_locks[c]);
	free(ch->core_locks);
	ch->core_locks = NULL;
}

static int oop_open(struct mimicos_channel *ch)
{
	size_t slots_off = (sizeof(struct channel_shm) + 63) & ~(size_t)63;
	size_t rings_off = slots_off + (size_t)ch->cfg.cores * sizeof(struct chan_slot);
	size_t bytes = rings_off + (size_t)ch->cfg.cores * ch->cfg.stream_ring_records *
		       sizeof(struct kstream_rec);
	struct channel_shm *shm;
	pid_t parent = getpid(), pid;
	int err;

	shm = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		return -errno;
	shm->cores = ch->cfg.cores;
	shm->ring_records = ch->cfg.stream_ring_records;
	shm->slots_off = slots_off;
	shm->rings_off = rings_off;
	ch->core_locks = calloc(ch->cfg.cores, sizeof(*ch->core_locks));
	if (!ch->core_locks) {
		munmap(shm, bytes);
		return -ENOMEM;
	}
	for (unsigned int c = 0; c < ch->cfg.cores; c++)
		pthread_mutex_init(&ch->core_locks[c], NULL);
	ch->shm = shm;
	ch->shm_bytes = bytes;
	pthread_mutex_init(&ch->reap_lock, NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto fail;
	}
	if (pid == 0)
		server_main(ch, parent);
	ch->pid = pid;
	while (atomic_load(&shm->ready) == SERVER_STARTING) {
		if (futex_wait(&shm->ready, SERVER_STARTING, CLIENT_POLL_NS) == -ETIMEDOUT &&
		    !server_alive(ch) && atomic_load(&shm->ready) == SERVER_STARTING) {
			err = -EPIPE;
			goto fail;
		}
	}
	if (atomic_load(&shm->ready) == SERVER_READY)
		return 0;
	err = shm->init_err ? shm->init_err : -EPIPE;
fail:
	if (ch->pid) {
		if (!ch->server_gone)
			waitpid(ch->pid, NULL, 0);
		ch->pid = 0;
	}
	pthread_mutex_destroy(&ch->reap_lock);
	free_core_locks(ch);
	munmap(shm, bytes);
	ch->shm = NULL;
	return err;
}

/* Move what the ring holds into ks (or drop it when ks is NULL or full). */
static void ring_drain(struct chan_slot *slot, const struct kstream_rec *ring, uint32_t size,
		       struct kstream *ks, int *err)
{
	uint32_t head = atomic_load_explicit(&slot->head, memory_order_acquire);
	uint32_t tail = atomic_load_explicit(&slot->tail, memory_order_relaxed);

	if (head == tail)
		return;
	if (ks && !*err)
		*err = kstream_grow(ks, ks->nr + (head - tail));
	for (; tail != head; tail++)
		if (ks && !*err)
			ks->rec[ks->nr++] = ring[tail & (size - 1)];
	atomic_store(&slot->tail, tail);
	if (atomic_load(&slot->server_waiting))
		futex_wake(&slot->tail);
}

static int __oop_request(struct mimicos_channel *ch, unsigned int core,
			 const struct mimicos_request *rq, struct mimicos_response *rs,
			 struct kstream *ks)
{
	struct channel_shm *shm = ch->shm;
	struct chan_slot *slot = slot_of(shm, core);
	const struct kstream_rec *ring = ring_of(shm, core);
	int err = 0;

	if (ch->server_gone)
		return -EPIPE;
	slot->rq = *rq;
	slot->want_stream = ks != NULL;
	slot->seq = atomic_fetch_add(&shm->next_seq, 1);
	atomic_store(&slot->state, SLOT_POSTED);
	atomic_fetch_add(&shm->doorbell, 1);
	if (atomic_load(&shm->server_waiting))
		futex_wake(&shm->doorbell);
	for (;;) {
		uint32_t ev = atomic_load(&slot->cev);

		ring_drain(slot, ring, shm->ring_records, ks, &err);
		if (atomic_load(&slot->state) == SLOT_DONE)
			break;
		atomic_store(&slot->client_waiting, 1);
		if (futex_wait(&slot->cev, ev, CLIENT_POLL_NS) == -ETIMEDOUT &&
		    !server_alive(ch) && atomic_load(&slot->state) != SLOT_DONE)
			return -EPIPE;
		atomic_store(&slot->client_waiting, 0);
	}
	ring_drain(slot, ring, shm->ring_records, ks, &err);
	memcpy(rs, &slot->rs, sizeof(*rs));
	atomic_store(&slot->state, SLOT_IDLE);
	return err;
}

/* One request in flight per core: callers of the same core take turns. */
static int oop_request(struct mimicos_channel *ch, unsigned int core,
		       const struct mimicos_request *rq, struct mimicos_response *rs,
		       struct kstream *ks)
{
	int err;

	pthread_mutex_lock(&ch->core_locks[core]);
	err = __oop_request(ch, core, rq, rs, ks);
	pthread_mutex_unlock(&ch->core_locks[core]);
	return err;
}

static void oop_close(struct mimicos_channel *ch)
{
	struct channel_shm *shm = ch->shm;

	atomic_store(&shm->shutdown, 1);
	atomic_fetch_add(&shm->doorbell, 1);
	futex_wake(&shm->doorbell);
	/* teardown runs MimicOS's checks: give it time, then stop it */
	for (int i = 0; i < 5000 && server_alive(ch); i++) {
		struct timespec ts = { 0, 1000000L };

		nanosleep(&ts, NULL);
	}
	if (server_alive(ch)) {
		kill(ch->pid, SIGKILL);
		if (waitpid(ch->pid, &ch->server_status, 0) == ch->pid)
			ch->server_gone = 1;
	}
	ch->pid = 0;
	pthread_mutex_destroy(&ch->reap_lock);
	free_core_locks(ch);
	munmap(shm, ch->shm_bytes);
	ch->shm = NULL;
}

const struct channel_ops channel_oop_ops = {
	.name = "out-of-process",
	.open = oop_open,
	.request = oop_request,
	.close = oop_close,
};
