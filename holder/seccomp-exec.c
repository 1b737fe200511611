/*
 * seccomp-exec: buildfence's seccomp filter for the build, then the build's own command.
 *
 *   seccomp-exec COMMAND [ARG...]
 *
 * The build's entrypoint on Docker and in the Pod. It installs a filter on top of the one the
 * runtime already applied (Docker's default profile, the Pod's RuntimeDefault): filters stack,
 * and the kernel applies the strictest answer, so the runtime's default stays whole, whatever
 * its version, and this adds what the fence needs. Then it executes COMMAND (searched in PATH)
 * in its place: the build never runs a step without the filter, and cannot remove it.
 *
 * Refused with EPERM:
 *   - socket() and socketpair() of any family but AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK:
 *     AF_VSOCK reaches the hypervisor, and the other families (Bluetooth, TIPC, RDS, SMC, CAN,
 *     XDP, ALG, ...) are no way a build needs, and not ways netfilter sees. The family is the
 *     syscall's int argument: only its low 32 bits count, as the kernel reads it.
 *   - io_uring_setup(): io_uring creates sockets (IORING_OP_SOCKET) without the socket syscall.
 *     Docker's default profile refuses it from Docker 25 on; 20.10 still allowed it.
 *   - the 32-bit socketcall() forms SYS_SOCKET and SYS_SOCKETPAIR, whose family lies in memory
 *     the filter cannot read: a 32-bit x86 program that creates its sockets through socketcall
 *     (glibc's i386 does) cannot create any; one that uses the direct socket syscall (musl) can.
 * A syscall of an architecture the filter does not know is refused (none other can occur).
 *
 * Exit codes: COMMAND's (it replaces this process); 125 when the filter cannot be installed
 * (the command is never run then); 126/127 when COMMAND cannot be run, as a shell says it.
 *
 * Built static by scripts/build-holder-image (and holder/Dockerfile) into the holder image; the
 * holder copies it next to the build's script. A hand-written filter, not libseccomp: it is one
 * rule about one argument, and the socketcall and io_uring cases are spelt out here.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the filter reads the low half of a syscall argument at its little-endian offset"
#endif

#define ARG0 offsetof(struct seccomp_data, args[0])
#define REFUSAL (SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))
/* Each instruction at its label's index; a jump's offset counts from the next instruction. */
#define AT(pc, insn) [pc] = insn
#define LOAD(pc, offset) AT(pc, BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (offset)))
#define RETURN(pc, action) AT(pc, BPF_STMT(BPF_RET | BPF_K, (action)))
#define GOTO_IF(pc, k, target) AT(pc, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (target) - (pc) - 1, 0))

/* socketcall's call numbers (linux/net.h). */
#define CALL_SOCKET 1
#define CALL_SOCKETPAIR 8

/* Syscall numbers per architecture: the native one, and the compat one the kernel also runs. */
/* The native numbers come from the kernel's headers; the compat ones are written out, since the
 * headers of one ABI do not carry the other's. */
#define NATIVE_SOCKET __NR_socket
#define NATIVE_SOCKETPAIR __NR_socketpair
#define NATIVE_IO_URING_SETUP __NR_io_uring_setup
#if defined(__x86_64__)
#define NATIVE AUDIT_ARCH_X86_64
/* x32 shares the x86-64 arch, its numbers carry this bit. */
#define X32 0x40000000u
#define COMPAT AUDIT_ARCH_I386
#define COMPAT_SOCKETCALL 102
#define COMPAT_SOCKET 359
#define COMPAT_SOCKETPAIR 360
#define COMPAT_IO_URING_SETUP 425
#elif defined(__aarch64__)
#define NATIVE AUDIT_ARCH_AARCH64
#define X32 0u
#define COMPAT AUDIT_ARCH_ARM
/* 32-bit ARM (EABI) has no socketcall; a number no syscall has keeps the filter's shape. */
#define COMPAT_SOCKETCALL 0xffffffffu
#define COMPAT_SOCKET 281
#define COMPAT_SOCKETPAIR 288
#define COMPAT_IO_URING_SETUP 425
#else
#error "seccomp-exec knows the syscall numbers of x86_64 and aarch64 only"
#endif

enum {
  ARCH, IS_NATIVE, IS_COMPAT, UNKNOWN_ARCH,
  NATIVE_NR, N_SOCKET, N_SOCKETPAIR, N_URING, X_SOCKET, X_SOCKETPAIR, X_URING, N_OTHER,
  COMPAT_NR, C_SOCKET, C_SOCKETPAIR, C_URING, C_SOCKETCALL, C_OTHER,
  SOCKETCALL, SC_SOCKET, SC_SOCKETPAIR, SC_OTHER,
  FAMILY, F_UNIX, F_INET, F_INET6, F_NETLINK,
  REFUSED, ALLOWED,
  LENGTH
};

static struct sock_filter filter[LENGTH] = {
    LOAD(ARCH, offsetof(struct seccomp_data, arch)),
    GOTO_IF(IS_NATIVE, NATIVE, NATIVE_NR),
    GOTO_IF(IS_COMPAT, COMPAT, COMPAT_NR),
    RETURN(UNKNOWN_ARCH, REFUSAL),

    LOAD(NATIVE_NR, offsetof(struct seccomp_data, nr)),
    GOTO_IF(N_SOCKET, NATIVE_SOCKET, FAMILY),
    GOTO_IF(N_SOCKETPAIR, NATIVE_SOCKETPAIR, FAMILY),
    GOTO_IF(N_URING, NATIVE_IO_URING_SETUP, REFUSED),
    GOTO_IF(X_SOCKET, X32 | NATIVE_SOCKET, FAMILY),
    GOTO_IF(X_SOCKETPAIR, X32 | NATIVE_SOCKETPAIR, FAMILY),
    GOTO_IF(X_URING, X32 | NATIVE_IO_URING_SETUP, REFUSED),
    RETURN(N_OTHER, SECCOMP_RET_ALLOW),

    LOAD(COMPAT_NR, offsetof(struct seccomp_data, nr)),
    GOTO_IF(C_SOCKET, COMPAT_SOCKET, FAMILY),
    GOTO_IF(C_SOCKETPAIR, COMPAT_SOCKETPAIR, FAMILY),
    GOTO_IF(C_URING, COMPAT_IO_URING_SETUP, REFUSED),
    GOTO_IF(C_SOCKETCALL, COMPAT_SOCKETCALL, SOCKETCALL),
    RETURN(C_OTHER, SECCOMP_RET_ALLOW),

    LOAD(SOCKETCALL, ARG0),
    GOTO_IF(SC_SOCKET, CALL_SOCKET, REFUSED),
    GOTO_IF(SC_SOCKETPAIR, CALL_SOCKETPAIR, REFUSED),
    RETURN(SC_OTHER, SECCOMP_RET_ALLOW),

    /* The low 32 bits of the first argument: the int the kernel reads. */
    LOAD(FAMILY, ARG0),
    GOTO_IF(F_UNIX, AF_UNIX, ALLOWED),
    GOTO_IF(F_INET, AF_INET, ALLOWED),
    GOTO_IF(F_INET6, AF_INET6, ALLOWED),
    GOTO_IF(F_NETLINK, AF_NETLINK, ALLOWED),
    RETURN(REFUSED, REFUSAL),
    RETURN(ALLOWED, SECCOMP_RET_ALLOW),
};

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: seccomp-exec COMMAND [ARG...]\n");
    return 125;
  }
  struct sock_fprog prog = {.len = LENGTH, .filter = filter};
  /* Without CAP_SYS_ADMIN a filter needs no_new_privs, which the runtimes set already. */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    fprintf(stderr, "buildfence: cannot install the build's seccomp filter (%s), so the build was not run\n", strerror(errno));
    return 125;
  }
  execvp(argv[1], argv + 1);
  int err = errno;
  fprintf(stderr, "buildfence: cannot run %s: %s\n", argv[1], strerror(err));
  return err == ENOENT ? 127 : 126;
}
