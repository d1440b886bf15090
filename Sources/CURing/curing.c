// io_uring for one thing: many sends on non-blocking sockets in one system call. Raw system
// calls (no liburing). Every send carries MSG_DONTWAIT, so the kernel completes it inline
// (REQ_F_NOWAIT: EAGAIN comes back as a result instead of a poll being armed), and
// `curing_submit` returns with every completion posted. The kernel headers stay in this file:
// included from a Swift-visible module map they changed which module owned the socket
// constants (a clean build of the tests lost SOCK_STREAM).
#define _GNU_SOURCE
#include "curing.h"

#include <linux/io_uring.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

struct curing {
    int fd;
    unsigned entries;
    unsigned pending;
    void *ring;
    size_t ringSize;
    struct io_uring_sqe *sqes;
    size_t sqesSize;
    unsigned *sqTail, *sqMask, *sqArray;
    unsigned *cqHead, *cqTail, *cqMask;
    struct io_uring_cqe *cqes;
};

/// 0, or -errno (ENOSYS, EPERM under a seccomp filter or io_uring_disabled, ENOMEM).
static int curing_init(struct curing *r, unsigned entries) {
    memset(r, 0, sizeof *r);
    r->fd = -1;
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE;
    p.cq_entries = entries;
    int fd = (int)syscall(__NR_io_uring_setup, entries, &p);
    if (fd < 0) return -errno;
    if (!(p.features & IORING_FEAT_SINGLE_MMAP)) { close(fd); return -ENOSYS; }
    size_t sq = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    r->ringSize = sq > cq ? sq : cq;
    r->ring = mmap(0, r->ringSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    if (r->ring == MAP_FAILED) { int e = errno; close(fd); return -e; }
    r->sqesSize = p.sq_entries * sizeof(struct io_uring_sqe);
    r->sqes = (struct io_uring_sqe *)mmap(0, r->sqesSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                                          IORING_OFF_SQES);
    if (r->sqes == MAP_FAILED) { int e = errno; munmap(r->ring, r->ringSize); close(fd); return -e; }
    char *base = (char *)r->ring;
    r->sqTail = (unsigned *)(base + p.sq_off.tail);
    r->sqMask = (unsigned *)(base + p.sq_off.ring_mask);
    r->sqArray = (unsigned *)(base + p.sq_off.array);
    r->cqHead = (unsigned *)(base + p.cq_off.head);
    r->cqTail = (unsigned *)(base + p.cq_off.tail);
    r->cqMask = (unsigned *)(base + p.cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *)(base + p.cq_off.cqes);
    r->entries = p.sq_entries;
    r->fd = fd;
    return 0;
}

static void curing_release(struct curing *r) {
    if (r->fd < 0) return;
    munmap(r->sqes, r->sqesSize);
    munmap(r->ring, r->ringSize);
    close(r->fd);
    r->fd = -1;
}

/// Queues a send of `len` bytes; 0, or -1 when the ring is full (submit first).
int curing_prep_send(struct curing *r, int fd, const void *buf, unsigned len, unsigned long long tag) {
    if (r->pending >= r->entries) return -1;
    unsigned tail = *r->sqTail + r->pending;
    unsigned idx = tail & *r->sqMask;
    struct io_uring_sqe *s = &r->sqes[idx];
    memset(s, 0, sizeof *s);
    s->opcode = IORING_OP_SEND;
    s->fd = fd;
    s->addr = (unsigned long long)(unsigned long)buf;
    s->len = len;
    s->msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL;
    s->user_data = tag;
    r->sqArray[idx] = idx;
    r->pending += 1;
    return 0;
}

/// Turns the `position`-th queued send (0 is the first since the last submit) into a no-op:
/// its socket is about to be closed, and the descriptor number could be reused at once.
void curing_cancel(struct curing *r, unsigned position) {
    if (position >= r->pending) return;
    struct io_uring_sqe *s = &r->sqes[(*r->sqTail + position) & *r->sqMask];
    unsigned long long tag = s->user_data;
    memset(s, 0, sizeof *s);
    s->opcode = IORING_OP_NOP;
    s->user_data = tag;
}

/// Submits what is queued and waits for as many completions (all inline, see above).
/// 0, or -errno: then some sends may not have run (those without a completion), and the
/// ring must be freed before anything else is queued (its unconsumed entries are stale).
int curing_submit(struct curing *r) {
    unsigned left = r->pending;
    if (left == 0) return 0;
    __atomic_store_n(r->sqTail, *r->sqTail + left, __ATOMIC_RELEASE);
    r->pending = 0;
    for (int tries = 0; left > 0; tries++) {
        int got = (int)syscall(__NR_io_uring_enter, r->fd, left, left, IORING_ENTER_GETEVENTS, (void *)0, 0);
        if (got < 0 && errno == EINTR && tries < 16) continue;
        if (got < 0) return -errno;
        if (got == 0) return -EIO;
        left -= (unsigned)got;
    }
    return 0;
}

/// The next completion: 1 with its tag and result (bytes sent, or -errno), 0 when none is left.
int curing_reap(struct curing *r, unsigned long long *tag, int *res) {
    unsigned head = *r->cqHead;
    if (head == __atomic_load_n(r->cqTail, __ATOMIC_ACQUIRE)) return 0;
    struct io_uring_cqe *c = &r->cqes[head & *r->cqMask];
    *tag = c->user_data;
    *res = c->res;
    __atomic_store_n(r->cqHead, head + 1, __ATOMIC_RELEASE);
    return 1;
}


struct curing *curing_create(unsigned entries, int *error) {
    struct curing *r = malloc(sizeof *r);
    if (!r) { *error = ENOMEM; return 0; }
    int rc = curing_init(r, entries);
    if (rc != 0) { free(r); *error = -rc; return 0; }
    *error = 0;
    return r;
}

void curing_free(struct curing *r) {
    if (!r) return;
    curing_release(r);
    free(r);
}

unsigned curing_entries(const struct curing *r) { return r->entries; }
