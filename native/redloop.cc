// redloop's syscall addon: one function per Linux syscall, named after it, and
// the constants from the system headers. No policy lives here: no retries, no
// logging, no defaults. Every call returns its result or a negative errno;
// src/sys/ turns errors into exceptions where that is the right shape.
//
// Memory is shared, not copied: poll() and epoll_wait() receive a typed array
// laid out as the kernel's struct array, read()/write() a Buffer plus
// (offset, length). The TypeScript side owns all of that memory.

#include <napi.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

inline int32_t ArgInt(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Int32Value();
}

inline Napi::Value Result(Napi::Env env, long rv) {
  return Napi::Number::New(env, rv < 0 ? -errno : static_cast<double>(rv));
}

// Resolves a typed array (or Buffer) argument to its bytes. Returns false and
// throws a TypeError if the argument is not a typed array.
bool Bytes(const Napi::CallbackInfo& info, size_t i, uint8_t** data, size_t* len) {
  napi_typedarray_type type;
  size_t length;
  void* ptr;
  napi_value arraybuffer;
  size_t byte_offset;
  napi_status st = napi_get_typedarray_info(info.Env(), info[i], &type, &length, &ptr,
                                            &arraybuffer, &byte_offset);
  if (st != napi_ok) {
    Napi::TypeError::New(info.Env(), "expected a typed array").ThrowAsJavaScriptException();
    return false;
  }
  size_t elem = 1;
  switch (type) {
    case napi_int16_array: case napi_uint16_array: elem = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
    default: elem = 1;
  }
  *data = static_cast<uint8_t*>(ptr);
  *len = length * elem;
  return true;
}

Napi::Value RangeError(Napi::Env env, const char* what) {
  Napi::RangeError::New(env, what).ThrowAsJavaScriptException();
  return env.Undefined();
}

// ---- sockets ---------------------------------------------------------------

// socket(domain, type, protocol) -> fd | -errno
Napi::Value Socket(const Napi::CallbackInfo& info) {
  return Result(info.Env(), socket(ArgInt(info, 0), ArgInt(info, 1), ArgInt(info, 2)));
}

// setsockopt(fd, level, optname, intValue) -> 0 | -errno
Napi::Value Setsockopt(const Napi::CallbackInfo& info) {
  int val = ArgInt(info, 3);
  return Result(info.Env(),
                setsockopt(ArgInt(info, 0), ArgInt(info, 1), ArgInt(info, 2), &val, sizeof(val)));
}

// Fills a sockaddr from (address, port). Returns its length, or 0 if the
// address is not a numeric IPv4 or IPv6 address.
socklen_t MakeAddr(const std::string& host, int port, sockaddr_storage* ss) {
  memset(ss, 0, sizeof(*ss));
  sockaddr_in* in4 = reinterpret_cast<sockaddr_in*>(ss);
  if (inet_pton(AF_INET, host.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(static_cast<uint16_t>(port));
    return sizeof(sockaddr_in);
  }
  sockaddr_in6* in6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<uint16_t>(port));
    return sizeof(sockaddr_in6);
  }
  return 0;
}

// bind(fd, address, port) -> 0 | -errno (-EINVAL for an unparsable address)
Napi::Value Bind(const Napi::CallbackInfo& info) {
  sockaddr_storage ss;
  socklen_t len = MakeAddr(info[1].As<Napi::String>().Utf8Value(), ArgInt(info, 2), &ss);
  if (len == 0) return Napi::Number::New(info.Env(), -EINVAL);
  return Result(info.Env(), bind(ArgInt(info, 0), reinterpret_cast<sockaddr*>(&ss), len));
}

// connect(fd, address, port) -> 0 | -errno (used by the blocking lesson client)
Napi::Value Connect(const Napi::CallbackInfo& info) {
  sockaddr_storage ss;
  socklen_t len = MakeAddr(info[1].As<Napi::String>().Utf8Value(), ArgInt(info, 2), &ss);
  if (len == 0) return Napi::Number::New(info.Env(), -EINVAL);
  return Result(info.Env(), connect(ArgInt(info, 0), reinterpret_cast<sockaddr*>(&ss), len));
}

// listen(fd, backlog) -> 0 | -errno
Napi::Value Listen(const Napi::CallbackInfo& info) {
  return Result(info.Env(), listen(ArgInt(info, 0), ArgInt(info, 1)));
}

// accept(fd) -> new fd | -errno. The peer address is not returned here (the
// hot path stays allocation-free); getpeername() asks for it when needed.
Napi::Value Accept(const Napi::CallbackInfo& info) {
  return Result(info.Env(), accept(ArgInt(info, 0), nullptr, nullptr));
}

// Converts a sockaddr to { address, port, family } or -errno.
Napi::Value AddrObject(Napi::Env env, const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {0};
  Napi::Object out = Napi::Object::New(env);
  if (ss.ss_family == AF_INET) {
    const sockaddr_in* in4 = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &in4->sin_addr, buf, sizeof(buf));
    out.Set("family", "IPv4");
    out.Set("port", ntohs(in4->sin_port));
  } else if (ss.ss_family == AF_INET6) {
    const sockaddr_in6* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
    out.Set("family", "IPv6");
    out.Set("port", ntohs(in6->sin6_port));
  } else {
    out.Set("family", "unknown");
    out.Set("port", 0);
  }
  out.Set("address", buf);
  return out;
}

// getsockname(fd) -> { address, port, family } | -errno
Napi::Value Getsockname(const Napi::CallbackInfo& info) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getsockname(ArgInt(info, 0), reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    return Napi::Number::New(info.Env(), -errno);
  return AddrObject(info.Env(), ss);
}

// getpeername(fd) -> { address, port, family } | -errno
Napi::Value Getpeername(const Napi::CallbackInfo& info) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getpeername(ArgInt(info, 0), reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    return Napi::Number::New(info.Env(), -errno);
  return AddrObject(info.Env(), ss);
}

// shutdown(fd, how) -> 0 | -errno
Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  return Result(info.Env(), shutdown(ArgInt(info, 0), ArgInt(info, 1)));
}

// ---- file descriptors --------------------------------------------------------

// fcntl(fd, cmd, arg) -> result | -errno (integer-argument commands only)
Napi::Value Fcntl(const Napi::CallbackInfo& info) {
  return Result(info.Env(), fcntl(ArgInt(info, 0), ArgInt(info, 1), ArgInt(info, 2)));
}

// read(fd, buffer, offset, length) -> bytes read | 0 on EOF | -errno
Napi::Value Read(const Napi::CallbackInfo& info) {
  uint8_t* data;
  size_t len;
  if (!Bytes(info, 1, &data, &len)) return info.Env().Undefined();
  int64_t off = info[2].As<Napi::Number>().Int64Value();
  int64_t n = info[3].As<Napi::Number>().Int64Value();
  if (off < 0 || n < 0 || static_cast<uint64_t>(off + n) > len)
    return RangeError(info.Env(), "read: offset/length outside the buffer");
  return Result(info.Env(), read(ArgInt(info, 0), data + off, static_cast<size_t>(n)));
}

// write(fd, buffer, offset, length) -> bytes written | -errno
Napi::Value Write(const Napi::CallbackInfo& info) {
  uint8_t* data;
  size_t len;
  if (!Bytes(info, 1, &data, &len)) return info.Env().Undefined();
  int64_t off = info[2].As<Napi::Number>().Int64Value();
  int64_t n = info[3].As<Napi::Number>().Int64Value();
  if (off < 0 || n < 0 || static_cast<uint64_t>(off + n) > len)
    return RangeError(info.Env(), "write: offset/length outside the buffer");
  return Result(info.Env(), write(ArgInt(info, 0), data + off, static_cast<size_t>(n)));
}

// close(fd) -> 0 | -errno
Napi::Value Close(const Napi::CallbackInfo& info) {
  return Result(info.Env(), close(ArgInt(info, 0)));
}

// pipe() -> [readFd, writeFd] | -errno
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (pipe(fds) < 0) return Napi::Number::New(info.Env(), -errno);
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(uint32_t(0), fds[0]);
  out.Set(uint32_t(1), fds[1]);
  return out;
}

// ---- readiness -----------------------------------------------------------------

// poll(pollfds, nfds, timeoutMs) -> number ready | -errno
// `pollfds` is a typed array whose bytes are struct pollfd[nfds], filled in
// place by the caller; the kernel writes revents straight into it.
Napi::Value Poll(const Napi::CallbackInfo& info) {
  uint8_t* data;
  size_t len;
  if (!Bytes(info, 0, &data, &len)) return info.Env().Undefined();
  uint32_t nfds = info[1].As<Napi::Number>().Uint32Value();
  if (static_cast<size_t>(nfds) * sizeof(struct pollfd) > len)
    return RangeError(info.Env(), "poll: nfds larger than the pollfd array");
  return Result(info.Env(), poll(reinterpret_cast<struct pollfd*>(data), nfds, ArgInt(info, 2)));
}

// epoll_create1(flags) -> epfd | -errno
Napi::Value EpollCreate1(const Napi::CallbackInfo& info) {
  return Result(info.Env(), epoll_create1(ArgInt(info, 0)));
}

// epoll_ctl(epfd, op, fd, events) -> 0 | -errno. data.fd is set to fd.
Napi::Value EpollCtl(const Napi::CallbackInfo& info) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = info[3].As<Napi::Number>().Uint32Value();
  ev.data.fd = ArgInt(info, 2);
  return Result(info.Env(), epoll_ctl(ArgInt(info, 0), ArgInt(info, 1), ArgInt(info, 2), &ev));
}

// epoll_wait(epfd, events, maxevents, timeoutMs) -> number ready | -errno
// `events` is a typed array whose bytes are struct epoll_event[maxevents].
Napi::Value EpollWait(const Napi::CallbackInfo& info) {
  uint8_t* data;
  size_t len;
  if (!Bytes(info, 1, &data, &len)) return info.Env().Undefined();
  int32_t maxevents = ArgInt(info, 2);
  if (maxevents <= 0 || static_cast<size_t>(maxevents) * sizeof(struct epoll_event) > len)
    return RangeError(info.Env(), "epoll_wait: maxevents does not fit the events array");
  return Result(info.Env(), epoll_wait(ArgInt(info, 0), reinterpret_cast<struct epoll_event*>(data),
                                       maxevents, ArgInt(info, 3)));
}

// ---- signals ---------------------------------------------------------------------

int g_signal_pipe_w = -1;

void OnSignal(int signo) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(signo);
  ssize_t ignored = write(g_signal_pipe_w, &b, 1);
  (void)ignored;
  errno = saved;
}

// signalpipe([signo, ...]) -> readFd | -errno
// The self-pipe trick: a handler for each signal writes the signal number as
// one byte into a non-blocking pipe whose read end the loop polls. Called
// again, it reuses the same pipe.
Napi::Value SignalPipe(const Napi::CallbackInfo& info) {
  static int read_end = -1;
  if (read_end < 0) {
    int fds[2];
    if (pipe(fds) < 0) return Napi::Number::New(info.Env(), -errno);
    for (int fd : fds) {
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
      fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    read_end = fds[0];
    g_signal_pipe_w = fds[1];
  }
  Napi::Array sigs = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < sigs.Length(); i++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = OnSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(sigs.Get(i).As<Napi::Number>().Int32Value(), &sa, nullptr) < 0)
      return Napi::Number::New(info.Env(), -errno);
  }
  return Napi::Number::New(info.Env(), read_end);
}

// signaldefault([signo, ...]) -> 0 | -errno: restores the default disposition.
Napi::Value SignalDefault(const Napi::CallbackInfo& info) {
  Napi::Array sigs = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < sigs.Length(); i++) {
    if (signal(sigs.Get(i).As<Napi::Number>().Int32Value(), SIG_DFL) == SIG_ERR)
      return Napi::Number::New(info.Env(), -errno);
  }
  return Napi::Number::New(info.Env(), 0);
}

// signalignore([signo, ...]) -> 0 | -errno: the signals are ignored (SIG_IGN).
Napi::Value SignalIgnore(const Napi::CallbackInfo& info) {
  Napi::Array sigs = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < sigs.Length(); i++) {
    if (signal(sigs.Get(i).As<Napi::Number>().Int32Value(), SIG_IGN) == SIG_ERR)
      return Napi::Number::New(info.Env(), -errno);
  }
  return Napi::Number::New(info.Env(), 0);
}

// ---- process image ----------------------------------------------------------------

// execve(path, argv[], env[]) -> -errno (returns only on failure). Used once at
// start-up to run the server again under a V8 heap size chosen by policy in JS.
Napi::Value Execve(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  auto strings = [](Napi::Array a) {
    std::vector<std::string> out;
    for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::String>().Utf8Value());
    return out;
  };
  std::vector<std::string> args = strings(info[1].As<Napi::Array>());
  std::vector<std::string> envs = strings(info[2].As<Napi::Array>());
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  for (auto& e : envs) envp.push_back(const_cast<char*>(e.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  execve(path.c_str(), argv.data(), envp.data());
  return Napi::Number::New(info.Env(), -errno);
}

// ---- resource limits ----------------------------------------------------------------

// getrlimit_nofile() -> { soft, hard } | -errno
Napi::Value GetrlimitNofile(const Napi::CallbackInfo& info) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return Napi::Number::New(info.Env(), -errno);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("soft", static_cast<double>(rl.rlim_cur));
  out.Set("hard", static_cast<double>(rl.rlim_max));
  return out;
}

// setrlimit_nofile(soft, hard) -> 0 | -errno
Napi::Value SetrlimitNofile(const Napi::CallbackInfo& info) {
  struct rlimit rl;
  rl.rlim_cur = static_cast<rlim_t>(info[0].As<Napi::Number>().Int64Value());
  rl.rlim_max = static_cast<rlim_t>(info[1].As<Napi::Number>().Int64Value());
  return Result(info.Env(), setrlimit(RLIMIT_NOFILE, &rl));
}

// ---- module ------------------------------------------------------------------------

Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
#define K(name) c.Set(#name, static_cast<double>(name))
  K(AF_INET); K(AF_INET6); K(SOCK_STREAM); K(SOCK_NONBLOCK); K(SOCK_CLOEXEC); K(IPPROTO_TCP);
  K(SOL_SOCKET); K(SO_REUSEADDR); K(SO_RCVBUF); K(SO_SNDBUF); K(SO_KEEPALIVE);
  K(TCP_NODELAY); K(TCP_KEEPIDLE); K(TCP_KEEPINTVL); K(TCP_KEEPCNT); K(SOMAXCONN); K(SHUT_RD); K(SHUT_WR); K(SHUT_RDWR);
  K(F_GETFL); K(F_SETFL); K(F_GETFD); K(F_SETFD); K(FD_CLOEXEC); K(O_NONBLOCK);
  K(POLLIN); K(POLLOUT); K(POLLERR); K(POLLHUP); K(POLLNVAL); K(POLLPRI); K(POLLRDHUP);
  K(EPOLLIN); K(EPOLLOUT); K(EPOLLERR); K(EPOLLHUP); K(EPOLLRDHUP); K(EPOLLET);
  K(EPOLL_CTL_ADD); K(EPOLL_CTL_MOD); K(EPOLL_CTL_DEL); K(EPOLL_CLOEXEC);
  K(EAGAIN); K(EWOULDBLOCK); K(EINTR); K(ECONNRESET); K(EPIPE); K(EMFILE); K(ENFILE);
  K(ENOBUFS); K(ENOMEM); K(ECONNABORTED); K(EBADF); K(EINVAL); K(EADDRINUSE); K(ENOTCONN);
  K(SIGINT); K(SIGTERM); K(SIGPIPE); K(SIGHUP); K(SIGUSR1);
#undef K
  c.Set("SIZEOF_POLLFD", static_cast<double>(sizeof(struct pollfd)));
  c.Set("OFFSETOF_POLLFD_EVENTS", static_cast<double>(offsetof(struct pollfd, events)));
  c.Set("OFFSETOF_POLLFD_REVENTS", static_cast<double>(offsetof(struct pollfd, revents)));
  c.Set("SIZEOF_EPOLL_EVENT", static_cast<double>(sizeof(struct epoll_event)));
  c.Set("OFFSETOF_EPOLL_EVENT_DATA", static_cast<double>(offsetof(struct epoll_event, data)));
  return c;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("socket", Napi::Function::New(env, Socket, "socket"));
  exports.Set("setsockopt", Napi::Function::New(env, Setsockopt, "setsockopt"));
  exports.Set("bind", Napi::Function::New(env, Bind, "bind"));
  exports.Set("connect", Napi::Function::New(env, Connect, "connect"));
  exports.Set("listen", Napi::Function::New(env, Listen, "listen"));
  exports.Set("accept", Napi::Function::New(env, Accept, "accept"));
  exports.Set("getsockname", Napi::Function::New(env, Getsockname, "getsockname"));
  exports.Set("getpeername", Napi::Function::New(env, Getpeername, "getpeername"));
  exports.Set("shutdown", Napi::Function::New(env, Shutdown, "shutdown"));
  exports.Set("fcntl", Napi::Function::New(env, Fcntl, "fcntl"));
  exports.Set("read", Napi::Function::New(env, Read, "read"));
  exports.Set("write", Napi::Function::New(env, Write, "write"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("poll", Napi::Function::New(env, Poll, "poll"));
  exports.Set("epoll_create1", Napi::Function::New(env, EpollCreate1, "epoll_create1"));
  exports.Set("epoll_ctl", Napi::Function::New(env, EpollCtl, "epoll_ctl"));
  exports.Set("epoll_wait", Napi::Function::New(env, EpollWait, "epoll_wait"));
  exports.Set("signalpipe", Napi::Function::New(env, SignalPipe, "signalpipe"));
  exports.Set("signaldefault", Napi::Function::New(env, SignalDefault, "signaldefault"));
  exports.Set("signalignore", Napi::Function::New(env, SignalIgnore, "signalignore"));
  exports.Set("getrlimit_nofile", Napi::Function::New(env, GetrlimitNofile, "getrlimit_nofile"));
  exports.Set("setrlimit_nofile", Napi::Function::New(env, SetrlimitNofile, "setrlimit_nofile"));
  exports.Set("execve", Napi::Function::New(env, Execve, "execve"));
  exports.Set("constants", Constants(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(redloop, Init)
