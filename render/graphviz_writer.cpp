// capgraph/render/graphviz_writer.cpp — see graphviz_writer.hpp.
#include "render/graphviz_writer.hpp"

#include <dlfcn.h>
#include <graphviz/cgraph.h>
#include <graphviz/graphviz_version.h>
#include <graphviz/gvc.h>

#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace capgraph::render {

namespace {

// Every Graphviz call in the process goes through this mutex (Graphviz keeps
// global state: error handler, static buffers, layout globals).
std::mutex& graphviz_mutex() {
  static std::mutex m;
  return m;
}

// Messages Graphviz reports while we hold the mutex (agseterrf callback).
std::string* g_messages = nullptr;

int capture_message(char* text) {
  if (g_messages && text) *g_messages += text;
  return 0;
}

// Holds the mutex and routes Graphviz messages to `messages` for its lifetime.
class GraphvizSession {
 public:
  GraphvizSession() : lock_(graphviz_mutex()) {
    g_messages = &messages;
    previous_handler_ = agseterrf(capture_message);
    previous_level_ = agseterr(AGWARN);
    agreseterrors();
  }
  ~GraphvizSession() {
    agreseterrors();
    agseterr(previous_level_);
    agseterrf(previous_handler_);
    g_messages = nullptr;
  }
  GraphvizSession(const GraphvizSession&) = delete;
  GraphvizSession& operator=(const GraphvizSession&) = delete;

  bool had_error() const { return agerrors() >= AGERR; }

  std::string messages;

 private:
  std::lock_guard<std::mutex> lock_;
  agusererrf previous_handler_ = nullptr;
  agerrlevel_t previous_level_ = AGWARN;
};

// The C API takes char*: hand it a private, writable copy.
class CStr {
 public:
  explicit CStr(const std::string& s) : buf_(s.begin(), s.end()) { buf_.push_back('\0'); }
  char* get() { return buf_.data(); }

 private:
  std::vector<char> buf_;
};

void set_attr(void* obj, const std::string& name, const std::string& value) {
  CStr n(name), v(value), empty("");
  agsafeset(obj, n.get(), v.get(), empty.get());
}

// Where Graphviz's plugin libraries are: $GVBINDIR if set (Graphviz's own
// override), else the graphviz/ folder next to the libgvc this process runs
// with (where Graphviz installs them), found at run time so that no path is
// built in and an installed capgraph can be moved.
std::vector<std::string> plugin_folders() {
  std::vector<std::string> folders;
  if (const char* env = std::getenv("GVBINDIR"); env && *env) folders.emplace_back(env);
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&gvContextPlugins), &info) && info.dli_fname) {
    std::string lib = info.dli_fname;
    const auto slash = lib.rfind('/');
    if (slash != std::string::npos) folders.push_back(lib.substr(0, slash) + "/graphviz");
  }
  return folders;
}

// A plugin library by name ("gvplugin_dot_layout"), loaded with dlopen from
// the plugin folder, else wherever the dynamic linker finds it (cached;
// never unloaded). nullptr and `why` on failure. Called with the Graphviz
// mutex held. No config6a file is read.
gvplugin_library_t* plugin_library(const std::string& name, std::string& why) {
  struct Loaded {
    gvplugin_library_t* lib = nullptr;
    std::string error;
  };
  static std::map<std::string, Loaded> cache;
  auto [it, fresh] = cache.try_emplace(name);
  if (fresh) {
    const std::string file = "lib" + name + ".so.6";
    void* handle = nullptr;
    std::vector<std::string> paths;
    for (const std::string& folder : plugin_folders()) paths.push_back(folder + "/" + file);
    paths.push_back(file);
    for (const std::string& path : paths) {
      handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle) break;
      const char* e = dlerror();
      it->second.error = e ? e : "dlopen failed";
    }
    if (handle) {
      it->second.lib = static_cast<gvplugin_library_t*>(dlsym(handle, (name + "_LTX_library").c_str()));
      if (!it->second.lib) it->second.error = file + " has no " + name + "_LTX_library";
    }
  }
  why = it->second.error;
  return it->second.lib;
}

std::string trim_messages(const std::string& text) {
  std::string out = text;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.rfind("Warning: ", 0) == 0) line.erase(0, 9);
    if (!line.empty()) lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

// cgraph's default ID discipline uses the address of the interned name as a
// named object's ID, and keeps subgraphs ordered by ID: cluster order, and
// with it the layout and the output bytes, then depend on malloc. This
// discipline numbers names in creation order instead (even IDs; anonymous
// objects odd, as in the default), so the same graph gives the same bytes.
// Names are interned with agstrdup, as the default does: the writers ask
// aghtmlstr() of a printed name, which reads the refstr header in front of
// it, so a name that is not a refstr would print as an HTML-like <name> or
// not depending on the bytes before it.
struct SequentialIds {
  Agraph_t* root = nullptr;
  std::unordered_map<std::string, IDTYPE> by_name;
  std::unordered_map<IDTYPE, char*> names;  // refstrs of the root graph, freed with it
  IDTYPE next_named = 2, next_anonymous = 1;
};

void* ids_open(Agraph_t* g, Agdisc_t*) {
  auto* s = new SequentialIds;
  s->root = g;
  return s;
}

long ids_map(void* state, int, char* str, IDTYPE* id, int createflag) {
  auto* s = static_cast<SequentialIds*>(state);
  if (!str) {
    *id = s->next_anonymous;
    s->next_anonymous += 2;
    return 1;
  }
  const auto it = s->by_name.find(str);
  if (it != s->by_name.end()) {
    *id = it->second;
    return 1;
  }
  if (!createflag) return 0;
  *id = s->next_named;
  s->next_named += 2;
  s->by_name.emplace(str, *id);
  s->names.emplace(*id, agstrdup(s->root, str));
  return 1;
}

long ids_alloc(void*, int, IDTYPE) { return 0; }
void ids_free(void*, int, IDTYPE) {}

char* ids_print(void* state, int, IDTYPE id) {
  auto* s = static_cast<SequentialIds*>(state);
  const auto it = s->names.find(id);
  return it == s->names.end() ? nullptr : it->second;
}

void ids_close(void* state) { delete static_cast<SequentialIds*>(state); }
void ids_register(void*, int, void*) {}

Agiddisc_t kSequentialIdDisc = {ids_open, ids_map, ids_alloc, ids_free, ids_print, ids_close, ids_register};
Agdisc_t kDisc = {&AgMemDisc, &kSequentialIdDisc, &AgIoDisc};

// The process's one Graphviz context, made on first use with our own
// "lt_preloaded_symbols": the built-in plugin libraries, so that
// gvContextPlugins() reads no configuration file. It also loads
// gvplugin_pango when it can: its text layout measures labels with the real
// font (fontconfig + pango) instead of Graphviz's built-in Helvetica
// estimates, so text stays inside its shape in a browser; it also provides
// the cairo renderers (PNG, PDF). The context lives as long as the process:
// Graphviz 2.42's pango plugin remembers the last font name as a pointer
// into the context's font dictionary, which a freed context would leave
// dangling (a use-after-free on the next map). Called with the mutex held;
// throws for PNG / PDF without pango, and notes the fallback for SVG.
GVC_t* shared_context(GraphvizSession& session, GvOutput output) {
  static GVC_t* gvc = nullptr;
  static std::string pango_why;  // why pango is missing; empty if loaded
  static std::vector<std::string> symbol_names;
  static std::vector<lt_symlist_t> builtins;  // gvContextPlugins keeps the pointer
  if (!gvc) {
    const std::vector<std::string> wanted = {"gvplugin_core", "gvplugin_dot_layout", "gvplugin_neato_layout",
                                             "gvplugin_pango"};
    symbol_names.reserve(wanted.size());
    for (const std::string& name : wanted) {
      std::string why;
      gvplugin_library_t* lib = plugin_library(name, why);
      if (!lib && name == "gvplugin_pango") {
        pango_why = why.empty() ? "not found" : why;
        continue;
      }
      if (!lib)
        throw GraphvizError("Graphviz plugin " + name + " could not be loaded (" + why +
                            "); is Graphviz (package libgvc6) installed?");
      symbol_names.push_back(name + "_LTX_library");
      builtins.push_back(lt_symlist_t{symbol_names.back().c_str(), lib});
    }
    builtins.push_back(lt_symlist_t{nullptr, nullptr});
    gvc = gvContextPlugins(builtins.data(), 0);
    if (!gvc) throw GraphvizError("Graphviz context could not be created");
  }
  if (!pango_why.empty()) {
    if (output == GvOutput::png || output == GvOutput::pdf)
      throw GraphvizError(
          std::string(output == GvOutput::png ? "PNG" : "PDF") +
          " output is unavailable: Graphviz's cairo renderer (libgvplugin_pango.so.6, Debian package "
          "libgvc6) could not be loaded (" + pango_why + "); write SVG instead and convert it, e.g. "
          "`rsvg-convert -o map.png map.svg`");
    if (output == GvOutput::svg)
      session.messages += "text widths are estimated (Graphviz's pango plugin, libgvplugin_pango.so.6 of Debian "
                          "package libgvc6, could not be loaded: " + pango_why + "); labels may overflow their shapes\n";
  }
  return gvc;
}
struct GraphDeleter {
  void operator()(Agraph_t* g) const { agclose(g); }
};

Agraph_t* build(const GvGraph& graph) {
  CStr name("capgraph");
  Agraph_t* g = agopen(name.get(), Agdirected, &kDisc);
  if (!g) throw GraphvizError("Graphviz: cannot create a graph");
  for (const auto& [k, v] : graph.graph_attrs) set_attr(g, k, v);
  for (const auto& [k, v] : graph.node_defaults) {
    CStr ks(k), vs(v);
    agattr(g, AGNODE, ks.get(), vs.get());
  }
  for (const auto& [k, v] : graph.edge_defaults) {
    CStr ks(k), vs(v);
    agattr(g, AGEDGE, ks.get(), vs.get());
  }
  std::vector<Agnode_t*> nodes;
  nodes.reserve(graph.nodes.size());
  for (const GvNode& n : graph.nodes) {
    CStr nn(n.name);
    Agnode_t* node = agnode(g, nn.get(), 1);
    for (const auto& [k, v] : n.attrs) set_attr(node, k, v);
    nodes.push_back(node);
  }
  for (std::size_t i = 0; i < graph.clusters.size(); ++i) {
    CStr cn("cluster_" + std::to_string(i));
    Agraph_t* sub = agsubg(g, cn.get(), 1);
    for (const auto& [k, v] : graph.clusters[i].attrs) set_attr(sub, k, v);
    for (std::size_t v : graph.clusters[i].nodes) agsubnode(sub, nodes.at(v), 1);
  }
  for (std::size_t i = 0; i < graph.ranks.size(); ++i) {
    CStr rn("rank_" + std::to_string(i));
    Agraph_t* sub = agsubg(g, rn.get(), 1);
    set_attr(sub, "rank", graph.ranks[i].rank);
    for (std::size_t v : graph.ranks[i].nodes) agsubnode(sub, nodes.at(v), 1);
  }
  for (const GvEdge& e : graph.edges) {
    Agedge_t* edge = agedge(g, nodes.at(e.tail), nodes.at(e.head), nullptr, 1);
    for (const auto& [k, v] : e.attrs) set_attr(edge, k, v);
  }
  return g;
}

std::string write_dot(Agraph_t* g) {
  char* buf = nullptr;
  std::size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  if (!f) throw GraphvizError("cannot open a memory stream for DOT output");
  const int rc = agwrite(g, f);
  std::fclose(f);
  std::string out(buf ? buf : "", len);
  std::free(buf);
  if (rc != 0) throw GraphvizError("Graphviz: writing DOT failed");
  return out;
}

}  // namespace

GvRendered graphviz_render(const GvGraph& graph, const std::string& engine, GvOutput output) {
  GraphvizSession session;
  auto fail = [&](const std::string& what) -> GraphvizError {
    std::string msg = "Graphviz " + what;
    const std::string detail = trim_messages(session.messages);
    if (!detail.empty()) msg += ": " + detail;
    return GraphvizError(msg);
  };

  GVC_t* gvc = shared_context(session, output);
  std::unique_ptr<Agraph_t, GraphDeleter> g(build(graph));
  if (session.had_error()) throw fail("could not build the graph");
  set_attr(g.get(), "layout", engine);

  GvRendered out;
  if (output == GvOutput::dot) {
    out.data = write_dot(g.get());
  } else {
    if (gvLayout(gvc, g.get(), engine.c_str()) != 0 || session.had_error()) {
      gvFreeLayout(gvc, g.get());
      throw fail("layout with `" + engine + "` failed");
    }
    char* data = nullptr;
    unsigned int length = 0;
    const char* format = output == GvOutput::svg ? "svg" : output == GvOutput::png ? "png:cairo" : "pdf:cairo";
    const int rc = gvRenderData(gvc, g.get(), format, &data, &length);
    if (data) {
      out.data.assign(data, length);
      gvFreeRenderData(data);
    }
    gvFreeLayout(gvc, g.get());
    if (rc != 0 || session.had_error()) throw fail(std::string("rendering ") + format + " failed");
  }
  out.warnings = split_lines(session.messages);
  return out;
}

bool graphviz_png_available() {
  std::lock_guard<std::mutex> lock(graphviz_mutex());
  std::string why;
  return plugin_library("gvplugin_pango", why) != nullptr;
}

std::string graphviz_version() { return PACKAGE_VERSION; }

}  // namespace capgraph::render
