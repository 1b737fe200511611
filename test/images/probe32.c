/*
 * probe32: the 32-bit x86 program of buildfence's integration tests (issue 12). A 32-bit
 * process on x86_64 opens sockets through socketcall(2), whose arguments lie in memory that a
 * seccomp filter cannot read, or through the direct socket(2) of i386. This program tries both,
 * for AF_INET and AF_VSOCK, and prints one line each: "NAME open", or "NAME errno N".
 *
 * Freestanding (no libc: int 0x80 syscalls), so that it builds without 32-bit libraries:
 *   gcc -m32 -static -nostdlib -ffreestanding -fno-pic -fno-stack-protector -O1 -o probe32 probe32.c
 * scripts/build-test-images builds it on x86_64 into the probe image.
 */
enum { SYS_EXIT = 1, SYS_WRITE = 4, SYS_CLOSE = 6, SYS_SOCKETCALL = 102, SYS_SOCKET = 359 };
enum { CALL_SOCKET = 1, AF_INET = 2, AF_VSOCK = 40, SOCK_STREAM = 1 };

static long sys(long nr, long a, long b, long c) {
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  return r;
}

static void put(const char *s) {
  long n = 0;
  while (s[n]) n++;
  sys(SYS_WRITE, 1, (long)s, n);
}

static void report(const char *name, long fd) {
  put(name);
  if (fd >= 0) {
    put(" open\n");
    sys(SYS_CLOSE, fd, 0, 0);
    return;
  }
  char digits[12];
  int i = sizeof digits;
  digits[--i] = '\0';
  for (long e = -fd; e > 0 || i == (int)sizeof digits - 1; e /= 10) digits[--i] = (char)('0' + e % 10);
  put(" errno ");
  put(digits + i);
  put("\n");
}

void _start(void) {
  long inet[3] = {AF_INET, SOCK_STREAM, 0};
  long vsock[3] = {AF_VSOCK, SOCK_STREAM, 0};
  report("socketcall inet", sys(SYS_SOCKETCALL, CALL_SOCKET, (long)inet, 0));
  report("socketcall vsock", sys(SYS_SOCKETCALL, CALL_SOCKET, (long)vsock, 0));
  report("socket inet", sys(SYS_SOCKET, AF_INET, SOCK_STREAM, 0));
  report("socket vsock", sys(SYS_SOCKET, AF_VSOCK, SOCK_STREAM, 0));
  sys(SYS_EXIT, 0, 0, 0);
  for (;;) {
  }
}
