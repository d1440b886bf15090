#ifndef CURING_H
#define CURING_H

/// A per-loop io_uring that sends on non-blocking sockets (see curing.c). Loop-confined.
struct curing;

/// A ring with at least `entries` slots, or NULL with `*error` set (ENOSYS, EPERM under a
/// seccomp filter or kernel.io_uring_disabled, ENOMEM).
struct curing *curing_create(unsigned entries, int *error);
void curing_free(struct curing *r);
/// Sends that fit between two submits.
unsigned curing_entries(const struct curing *r);
/// Queues a send of `len` bytes at `buf` (valid until the submit); 0, or -1 when full.
int curing_prep_send(struct curing *r, int fd, const void *buf, unsigned len, unsigned long long tag);
/// Turns the `position`-th queued send (0: the first since the last submit) into a no-op.
void curing_cancel(struct curing *r, unsigned position);
/// Submits what is queued and waits for as many completions (all inline). 0, or -errno:
/// then sends without a completion may not have run, and the ring must be freed before
/// anything else is queued.
int curing_submit(struct curing *r);
/// The next completion: 1 with its tag and result (bytes sent, or -errno), 0 when none is left.
int curing_reap(struct curing *r, unsigned long long *tag, int *res);

#endif
