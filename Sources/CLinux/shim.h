#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H

// Glibc's Swift module is built without _GNU_SOURCE, so it exposes neither
// <sys/epoll.h> nor accept4(2). This header-only module brings both in.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>

int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);

// EPOLL* constants are an enum of unsigned values in C but EPOLLET is 1u << 31,
// which Swift imports awkwardly; these give them a single type.
static inline uint32_t shim_epollin(void) { return EPOLLIN; }
static inline uint32_t shim_epollout(void) { return EPOLLOUT; }
static inline uint32_t shim_epollet(void) { return EPOLLET; }
static inline uint32_t shim_epollrdhup(void) { return EPOLLRDHUP; }
static inline uint32_t shim_epollerr(void) { return EPOLLERR; }
static inline uint32_t shim_epollhup(void) { return EPOLLHUP; }

#endif
