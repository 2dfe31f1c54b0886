// capgraph/cli/output.hpp — output files: written whole or not at all
// (a temporary beside the target, renamed over it), several outputs of one
// command committed together, never onto one of the command's inputs, and
// no temporary left behind by an interrupt (docs/reliability.md).
#pragma once

#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace capgraph::cli {

/// Records an input file (a spec, an observations CSV) by device and
/// inode, so that no output may replace it. "-" and special files are not
/// recorded (they cannot be replaced by a rename).
void note_input(const std::string& path);

/// Installs the handlers of SIGINT, SIGTERM and SIGHUP that unlink every
/// temporary file still open, then end the process by the same signal.
void install_signal_cleanup();

/// Output written as it is made, so that an output of many gigabytes (a
/// sweep of 100,000 tasks x 1,000 points in CSV) is never held in memory.
/// To a path: whole or not at all (a temporary beside it, renamed over it by
/// finish(); destroyed without finish(), the temporary is removed and an
/// existing file is untouched; on SIGINT, SIGTERM or SIGHUP the temporary is
/// removed too). A path that is the same file as an input (note_input, by
/// device and inode, so also through a symlink or a hard link) is refused
/// with Failure(2) before anything is written. To standard output ("" or
/// "-") or a device or FIFO: written through; a reader that went away
/// (EPIPE, `| head`) ends the output quietly (closed() turns true, later
/// writes are dropped). Failure(3) on any other I/O error. Open it only once
/// the content is known to be valid: it creates the temporary at once.
class OutputStream {
 public:
  explicit OutputStream(const std::string& path);
  ~OutputStream();
  OutputStream(const OutputStream&) = delete;
  OutputStream& operator=(const OutputStream&) = delete;

  void write(std::string_view text) {
    if (text.size() > kBuffer - used_) {
      flush();
      if (text.size() >= kBuffer) return put(text.data(), text.size());
    }
    std::memcpy(buf_.get() + used_, text.data(), text.size());
    used_ += text.size();
  }
  OutputStream& operator<<(std::string_view text) {
    write(text);
    return *this;
  }
  OutputStream& operator<<(char c) { return *this << std::string_view(&c, 1); }
  /// The shortest round-trip form of num(), without a temporary string.
  void number(double v);
  /// Whether the reader went away: further output is dropped, so a long
  /// writer may stop early.
  bool closed() const { return closed_; }
  /// Flushes, and for a path renames the temporary over it.
  void finish() { finish_all({this}); }
  /// Commits several outputs together: every one is written out and synced
  /// first, and only when all of them succeeded are the temporaries renamed
  /// over their targets. A failure before that leaves every target as it was.
  /// Null entries are skipped.
  static void finish_all(std::initializer_list<OutputStream*> outputs);

 private:
  static constexpr std::size_t kBuffer = std::size_t{1} << 20;
  void flush();
  void put(const char* data, std::size_t size);
  void prepare();  // everything but the rename
  void commit();   // the rename
  [[noreturn]] void fail(int err);
  void drop_temp();

  std::string name_;    // as given, for messages
  std::string target_;  // a regular file: renamed onto at finish(); else empty
  int slot_ = -1;       // its temporary's slot in the signal handler's table
  int fd_ = -1;
  bool own_fd_ = false;
  bool closed_ = false, finished_ = false;
  std::unique_ptr<char[]> buf_;
  std::size_t used_ = 0;
};

/// Writes `text` to `path` through an OutputStream (whole or not at all).
void write_output(const std::string& text, const std::string& path);

}  // namespace capgraph::cli
