// capgraph/cli/output.cpp — see output.hpp.
#include "cli/output.hpp"

#include "text/number_format.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <utility>
#include <vector>

#include "cli/failure.hpp"
#include "cli/formats.hpp"

namespace capgraph::cli {

namespace {

// --- inputs that no output may replace ---------------------------------------

struct InputFile {
  dev_t dev;
  ino_t ino;
  std::string path;
};
std::vector<InputFile> g_inputs;

// --- temporaries, for the signal handler ------------------------------------
// A fixed table that the handler can read without allocating: each slot holds
// a temporary's path, written before the file is created (mkstemp fills in
// the XXXXXX in place), and a flag set while the file may exist.

constexpr int kSlots = 16;
constexpr std::size_t kPathMax = 4096;
char g_temp[kSlots][kPathMax];
volatile std::sig_atomic_t g_live[kSlots];

int claim_slot(const std::string& tmpl) {
  if (tmpl.size() >= kPathMax) throw Failure(kIo, tmpl + ": error: cannot write: path too long");
  for (int i = 0; i < kSlots; ++i)
    if (!g_live[i]) {
      std::memcpy(g_temp[i], tmpl.c_str(), tmpl.size() + 1);
      std::atomic_signal_fence(std::memory_order_seq_cst);  // the path is whole before the handler may read it
      g_live[i] = 1;
      return i;
    }
  throw Failure(kIo, "error: more than 16 output files at once");
}

extern "C" void unlink_temporaries(int sig) {
  for (int i = 0; i < kSlots; ++i)
    if (g_live[i]) ::unlink(g_temp[i]);  // async-signal-safe
  std::signal(sig, SIG_DFL);
  std::raise(sig);  // ends the process as the signal would have
}

}  // namespace

void note_input(const std::string& path) {
  struct stat st {};
  if (path.empty() || path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  g_inputs.push_back({st.st_dev, st.st_ino, path});
}

void install_signal_cleanup() {
  struct sigaction sa {};
  sa.sa_handler = unlink_temporaries;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    // An ignored signal (nohup, a background job's SIGINT) stays ignored.
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &sa, nullptr);
  }
}

OutputStream::OutputStream(const std::string& path) : name_(path), buf_(new char[kBuffer]) {
  if (path.empty() || path == "-") {
    std::fflush(stdout);
    fd_ = STDOUT_FILENO;
    name_.clear();
    return;
  }
  namespace fs = std::filesystem;
  fs::path target(path);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {  // follows symlinks
    for (const InputFile& in : g_inputs)
      if (in.dev == st.st_dev && in.ino == st.st_ino)
        throw Failure(kUsage, "error: output `" + path + "` is the same file as the input `" + in.path +
                                  "`; nothing written (write the output elsewhere)");
    if (S_ISDIR(st.st_mode)) throw Failure(kIo, path + ": error: cannot write: is a directory");
    if (!S_ISREG(st.st_mode)) {
      // A device or FIFO (/dev/null, /dev/stdout, a named pipe): write to it.
      // Renaming a temporary over it would replace the special file itself.
      fd_ = ::open(path.c_str(), O_WRONLY);
      if (fd_ < 0) throw Failure(kIo, path + ": error: cannot write: " + std::strerror(errno));
      own_fd_ = true;
      return;
    }
  }
  // Through a symlink to a file: replace the file it names, keep the link.
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(target, ec))) {
    const fs::path real = fs::canonical(target, ec);
    if (!ec) target = real;
  }
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::string name = ".";
  name += target.filename().string();
  name += ".tmpXXXXXX";
  slot_ = claim_slot((dir / name).string());
  fd_ = ::mkstemp(g_temp[slot_]);
  if (fd_ < 0) {
    const int err = errno;
    g_live[slot_] = 0;
    slot_ = -1;
    throw Failure(kIo, path + ": error: cannot write: " + std::strerror(err));
  }
  own_fd_ = true;
  target_ = target.string();
}

OutputStream::~OutputStream() {
  if (own_fd_ && fd_ >= 0) ::close(fd_);
  if (!finished_) drop_temp();
}

void OutputStream::drop_temp() {
  if (slot_ < 0) return;
  ::unlink(g_temp[slot_]);
  g_live[slot_] = 0;
  slot_ = -1;
}

void OutputStream::fail(int err) {
  const std::string why = std::strerror(err);
  if (own_fd_ && fd_ >= 0) ::close(fd_);
  fd_ = -1;
  drop_temp();
  if (name_.empty()) throw Failure(kIo, "error: cannot write to standard output");
  throw Failure(kIo, name_ + ": error: cannot write: " + why);
}

void OutputStream::put(const char* data, std::size_t size) {
  for (std::size_t done = 0; !closed_ && done < size;) {
    const ssize_t w = ::write(fd_, data + done, size - done);
    if (w > 0) {
      done += static_cast<std::size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else {
      const int err = w < 0 ? errno : ENOSPC;
      // The reader went away (| head): end quietly (docs/cli.md, "Exit codes"). Not
      // for a file: a temporary cannot lose its reader.
      if (err == EPIPE && slot_ < 0) closed_ = true;
      else fail(err);
    }
  }
}

void OutputStream::flush() {
  if (used_ > 0) put(buf_.get(), used_);
  used_ = 0;
}

void OutputStream::number(double v) {
  char buf[64];
  write(text::shortest(v, buf));
}

void OutputStream::prepare() {
  flush();
  if (slot_ < 0) {
    finished_ = true;
    if (own_fd_) {
      const int fd = fd_;
      fd_ = -1;
      if (::close(fd) != 0 && !closed_) fail(errno);
    }
    return;
  }
  if (::fsync(fd_) != 0) fail(errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(errno);
}

void OutputStream::commit() {
  if (slot_ < 0) return;
  if (std::rename(g_temp[slot_], target_.c_str()) != 0) fail(errno);
  g_live[slot_] = 0;  // after the rename: an interrupt before it still removes the temporary
  slot_ = -1;
  finished_ = true;
  // mkstemp creates 0600; give the file the usual permissions (umask applies).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(target_.c_str(), 0666 & ~mask);
}

void OutputStream::finish_all(std::initializer_list<OutputStream*> outputs) {
  // Files first: standard output cannot be taken back once written.
  for (OutputStream* o : outputs)
    if (o != nullptr && o->slot_ >= 0) o->prepare();
  for (OutputStream* o : outputs)
    if (o != nullptr && o->slot_ < 0) o->prepare();
  for (OutputStream* o : outputs)
    if (o != nullptr) o->commit();
}

void write_output(const std::string& text, const std::string& path) {
  OutputStream out(path);
  out.write(text);
  out.finish();
}

}  // namespace capgraph::cli
