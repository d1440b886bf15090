#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H

// Glibc's Swift module exposes neither <sys/epoll.h> nor accept4(2) (declared only under
// _GNU_SOURCE, which must not be defined here: it changes types that Glibc's module also
// defines). This header-only module brings in the two headers and declares accept4.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <pthread.h>
#include <sys/random.h>

extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
// Also _GNU_SOURCE-only: names threads for top/perf.
extern int pthread_setname_np(pthread_t thread, const char *name);

// EPOLLET is 1u << 31 in an enum, which Swift imports awkwardly; one type for all flags.
static inline uint32_t shim_epollin(void) { return EPOLLIN; }
static inline uint32_t shim_epollout(void) { return EPOLLOUT; }
static inline uint32_t shim_epollet(void) { return EPOLLET; }
static inline uint32_t shim_epollrdhup(void) { return EPOLLRDHUP; }
static inline uint32_t shim_epollerr(void) { return EPOLLERR; }
static inline uint32_t shim_epollhup(void) { return EPOLLHUP; }

#endif
