// posfeed: the command line. Parses arguments, opens the store and runs a command; everything
// else lives in the libraries.

#include "app/demo.hpp"
#include "auth/api_key.hpp"
#include "auth/password.hpp"
#include "core/config.hpp"
#include "core/log.hpp"
#include "http/server.hpp"
#include "store/open_store.hpp"
#include "store/store.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <malloc.h>
#include <sys/resource.h>

#include <csignal>
#include <iostream>

namespace {

using namespace posfeed;

/// Every connection is a file descriptor: raises the soft limit to the hard one (a process may
/// always do that), and warns when even that cannot hold `max_connections` (past it, accepts
/// fail with EMFILE and are retried, instead of a clean 503).
void raise_fd_limit(int max_connections) {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
        return;
    }
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
            getrlimit(RLIMIT_NOFILE, &lim);
        }
    }
    constexpr rlim_t reserve = 64; // database files, the listener, logs
    if (lim.rlim_cur != RLIM_INFINITY &&
        lim.rlim_cur < static_cast<rlim_t>(max_connections) + reserve) {
        spdlog::warn("the open-file limit ({}) is below limits.max_connections ({}) + {}: raise "
                     "the hard limit (ulimit -Hn, LimitNOFILE=) or lower max_connections",
                     lim.rlim_cur, max_connections, reserve);
    }
}

/// glibc's allocator returns freed memory at the top of each thread's arena to the kernel as
/// soon as it passes 128 KiB (madvise), and serves blocks of 128 KiB and more with mmap. A
/// server that frees and reallocates such memory all the time (replay pages, group commits)
/// then spends its time in madvise/munmap and the TLB shootdowns they cause: ~10% of the CPU of
/// the write benchmark (perf). Fixed thresholds keep that memory in the process.
void tune_allocator() {
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

/// A file-size limit (RLIMIT_FSIZE, e.g. a quota set with prlimit) that a write passes raises
/// SIGXFSZ, whose default action kills the process: every connection and stream with it.
/// Ignored, the write fails with EFBIG instead, the store reports it as it does a full disk
/// (the writes of that commit answer 503) and the server goes on.
void ignore_file_size_signal() {
    std::signal(SIGXFSZ, SIG_IGN);
}

int serve(core::config cfg, const std::string& config_file, const CLI::App& cmd) {
    tune_allocator();
    // The file first, then flags given on the command line win over it.
    if (!config_file.empty()) {
        core::config from_file;
        if (auto s = core::load_config_file(config_file, from_file); !s.ok()) {
            std::cerr << "posfeed: " << s.err().message << "\n";
            return 2;
        }
        if (cmd.count("--listen") == 0) {
            cfg.listen = from_file.listen;
        }
        if (cmd.count("--db") == 0) {
            cfg.db = from_file.db;
        }
        if (cmd.count("--threads") == 0) {
            cfg.threads = from_file.threads;
        }
        if (cmd.count("--demo") == 0) {
            cfg.demo = from_file.demo;
        }
        if (cmd.count("--log-format") == 0) {
            cfg.log_format = from_file.log_format;
        }
        const auto keep = cfg;
        cfg = from_file;
        cfg.listen = keep.listen;
        cfg.db = keep.db;
        cfg.threads = keep.threads;
        cfg.demo = keep.demo;
        cfg.log_format = keep.log_format;
    }
    if (auto s = core::validate(cfg); !s.ok()) {
        std::cerr << "posfeed: " << s.err().message << "\n";
        return 2;
    }
    core::init_logging(cfg.log_level, cfg.log_format);
    raise_fd_limit(cfg.limits.max_connections);
    auto db = store::open_store(cfg.db);
    std::string demo_key;
    if (cfg.demo) {
        demo_key = app::prepare_demo(*db);
    }
    http::server srv(cfg, *db);
    const unsigned short port = srv.bind();
    const auto hp = core::split_host_port(cfg.listen);
    std::cout << "posfeed listening on http://" << hp->first << ":" << port << "\n";
    if (cfg.demo) {
        std::cout << "demo RmSystem 1, API key: " << demo_key << "\n"
                  << "try: curl -N -H 'X-Api-Key: " << demo_key << "' 'http://" << hp->first << ":"
                  << port << "/eventsource_1?want=products,levels'\n";
    }
    std::cout.flush();
    std::unique_ptr<app::store_simulator> sim;
    if (cfg.demo) {
        sim = std::make_unique<app::store_simulator>(*db);
    }
    const int rc = srv.run();
    sim.reset();
    db->close();
    return rc;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"posfeed: a realtime change-feed server for retail point-of-sale data"};
    app.require_subcommand(1);

    core::config cfg;
    std::string config_file;
    auto* serve_cmd = app.add_subcommand("serve", "run the server");
    serve_cmd->add_option("--config", config_file, "TOML config file")->check(CLI::ExistingFile);
    serve_cmd->add_option("--listen", cfg.listen,
                          "HOST:PORT to listen on (port 0 picks a free port)");
    serve_cmd->add_option("--db", cfg.db, "database URL: sqlite:PATH or postgresql://...");
    serve_cmd->add_option("--threads", cfg.threads, "worker threads (0: one per core)");
    serve_cmd->add_flag("--demo", cfg.demo,
                        "create RmSystem 1 with sample data and a store simulator");
    serve_cmd->add_option("--log-format", cfg.log_format,
                          "log lines as text (the default) or json (one object per line)");

    std::string db_url = cfg.db;
    std::string id;
    auto* rm_cmd = app.add_subcommand("rmsystem", "manage RmSystems");
    rm_cmd->require_subcommand(1);
    auto* rm_create = rm_cmd->add_subcommand("create", "create an RmSystem");
    rm_create->add_option("ID", id, "RmSystem id: 1 to 64 of [0-9A-Za-z_]")->required();
    rm_create->add_option("--db", db_url, "database URL");

    std::string rmsystem;
    std::string scopes;
    std::string user_name;
    auto* user_cmd = app.add_subcommand("user", "manage POS users");
    user_cmd->require_subcommand(1);
    auto* user_create = user_cmd->add_subcommand(
        "create", "create a user; the password is read from standard input");
    user_create->add_option("--db", db_url, "database URL");
    user_create->add_option("--rmsystem", rmsystem, "the RmSystem the user belongs to")->required();
    user_create->add_option("--name", user_name, "user name, unique over all RmSystems")
        ->required();

    auto* key_cmd = app.add_subcommand("apikey", "manage API keys");
    key_cmd->require_subcommand(1);
    auto* key_create =
        key_cmd->add_subcommand("create", "create an API key; prints it alone on the last line");
    key_create->add_option("--db", db_url, "database URL");
    key_create->add_option("--rmsystem", rmsystem, "the RmSystem the key belongs to")->required();
    key_create
        ->add_option("--scopes", scopes, "event types and/or 'write', comma-separated, or '*'")
        ->required();
    auto* key_revoke = key_cmd->add_subcommand("revoke", "revoke an API key");
    key_revoke->add_option("--db", db_url, "database URL");
    key_revoke->add_option("KEY", id, "the key, or its id (the 16 hex digits after pfk_)")
        ->required();

    std::string backup_file;
    auto* backup_cmd = app.add_subcommand(
        "backup", "write a consistent copy of a SQLite database while the server runs");
    backup_cmd->add_option("--db", db_url, "database URL (sqlite:PATH)");
    backup_cmd->add_option("FILE", backup_file, "the copy to write (replaced when it exists)")
        ->required();

    CLI11_PARSE(app, argc, argv);
    ignore_file_size_signal();

    try {
        if (serve_cmd->parsed()) {
            return serve(cfg, config_file, *serve_cmd);
        }
        core::init_logging("warn");
        auto db = store::open_store(db_url);
        if (rm_create->parsed()) {
            if (auto s = db->create_rmsystem(id); !s.ok()) {
                std::cerr << "posfeed: " << s.err().message << "\n";
                return 1;
            }
            std::cout << "created rmsystem " << id << "\n";
            return 0;
        }
        if (user_create->parsed()) {
            std::string password;
            std::getline(std::cin, password);
            if (!password.empty() && password.back() == '\r') {
                password.pop_back();
            }
            if (password.empty()) {
                std::cerr << "posfeed: give the password on standard input, e.g. echo 'secret' | "
                             "posfeed user create ...\n";
                return 2;
            }
            if (user_name.empty() || user_name.size() > 200) {
                std::cerr << "posfeed: the user name must be 1 to 200 characters\n";
                return 2;
            }
            if (auto st = db->add_user({rmsystem, user_name, auth::hash_password(password)});
                !st.ok()) {
                std::cerr << "posfeed: " << st.err().message << "\n";
                return 1;
            }
            std::cout << "created user " << user_name << " in rmsystem " << rmsystem << "\n";
            return 0;
        }
        if (key_create->parsed()) {
            const auto s = auth::parse_scopes(scopes);
            if (!s.ok()) {
                std::cerr << "posfeed: " << s.err().message << "\n";
                return 2;
            }
            auto key = auth::generate_api_key(rmsystem, *s);
            if (auto st = db->add_api_key(key.row); !st.ok()) {
                std::cerr << "posfeed: " << st.err().message << "\n";
                return 1;
            }
            std::cout << "created api key " << key.row.id << " for rmsystem " << rmsystem
                      << " with scopes " << key.row.scopes << " (shown once, store it now)\n"
                      << key.key << "\n";
            return 0;
        }
        if (backup_cmd->parsed()) {
            if (auto st = db->backup(backup_file); !st.ok()) {
                std::cerr << "posfeed: " << st.err().message << "\n";
                return 1;
            }
            std::cout << "backed up the database to " << backup_file << "\n";
            return 0;
        }
        if (key_revoke->parsed()) {
            const auto parts = auth::split_api_key(id);
            const std::string key_id = parts ? std::string(parts->first) : id;
            if (auto st = db->revoke_api_key(key_id); !st.ok()) {
                std::cerr << "posfeed: " << st.err().message << "\n";
                return 1;
            }
            std::cout << "revoked api key " << key_id << "\n";
            return 0;
        }
    } catch (const std::exception& e) {
        std::cerr << "posfeed: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
