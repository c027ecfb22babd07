// posfeed-tail: prints a posfeed event stream as JSON lines, resuming exactly across restarts
// with --state (SPEC 9). Exit codes: 0 done (--count reached, --timeout without --count,
// SIGTERM/SIGINT), 1 local failure (state file, stdout), 2 the server refused the stream (400,
// 401, 403, 404, …), 3 --timeout before --count events, 64 usage.

#include "../client.hpp"
#include "event_line.hpp"
#include "state_file.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>

namespace {

namespace asio = boost::asio;
namespace pc = posfeed::client;

constexpr int exit_ok = 0;
constexpr int exit_local_error = 1;
constexpr int exit_refused = 2;
constexpr int exit_timed_out = 3;
constexpr int exit_usage = 64;

struct arguments {
    std::string url;
    std::string want;
    std::string api_key;
    std::string token;
    std::string state;
    std::string format;
    std::optional<std::uint64_t> count;
    std::optional<double> timeout;
};

/// What happened while running, for the exit code.
struct outcome {
    std::uint64_t printed = 0;
    bool count_reached = false;
    bool timed_out = false;
    bool signalled = false;
    std::string local_error;
};

std::string seconds_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", s);
    return buf;
}

int run(const arguments& args) {
    pc::resume_state initial;
    if (!args.state.empty()) {
        const pc::tail::state_read r = pc::tail::read_state_file(args.state);
        if (!r.ok) {
            std::fprintf(stderr, "posfeed-tail: %s\n", r.error.c_str());
            return exit_local_error;
        }
        if (r.state) {
            initial = *r.state;
        }
    }

    pc::client_options options;
    options.url = args.url;
    options.query = {{"want", args.want}};
    options.api_key = args.api_key;
    options.token = args.token;
    options.format = args.format;
    options.resume = std::move(initial);
    const bool data_as_json = args.format != "xml";

    asio::io_context io(1);
    outcome out;
    pc::feed_client* client = nullptr;
    pc::client_handlers handlers;
    handlers.on_event = [&](const pc::feed_event& e) {
        std::string line = pc::tail::event_line(e.type, e.id, e.data, data_as_json);
        line += '\n';
        if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() ||
            std::fflush(stdout) != 0) {
            out.local_error = "cannot write to stdout";
            client->stop();
            return;
        }
        if (e.type != "ready") {
            ++out.printed;
        }
        if (args.count && out.printed >= *args.count) {
            out.count_reached = true;
            client->stop();
        }
    };
    handlers.on_state = [&](const pc::resume_state& state) {
        if (args.state.empty() || !out.local_error.empty()) {
            return;
        }
        if (std::string error = pc::tail::write_state_file(args.state, state); !error.empty()) {
            out.local_error = "cannot save the state: " + error;
            client->stop();
        }
    };
    handlers.on_reconnect = [](const pc::reconnect_notice& n) {
        std::fprintf(stderr, "posfeed-tail: %s; reconnecting in %.1f s (attempt %u)\n",
                     n.reason.c_str(), static_cast<double>(n.delay.count()) / 1000.0, n.attempt);
    };
    pc::feed_client feed(io.get_executor(), std::move(options), std::move(handlers));
    client = &feed;

    // Signals are handled between events: the event being printed is finished (line and state)
    // before the client stops, so SIGTERM never loses or repeats one.
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec) {
            out.signalled = true;
            feed.stop();
        }
    });
    asio::steady_timer deadline(io);
    if (args.timeout) {
        deadline.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(*args.timeout)));
        deadline.async_wait([&](const boost::system::error_code& ec) {
            if (!ec) {
                out.timed_out = true;
                feed.stop();
            }
        });
    }

    std::exception_ptr failure;
    pc::run_result result;
    asio::co_spawn(io, feed.run(), [&](std::exception_ptr e, pc::run_result r) {
        failure = e;
        result = std::move(r);
        signals.cancel();
        deadline.cancel();
    });
    io.run();

    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "posfeed-tail: %s\n", e.what());
        }
        return exit_local_error;
    }
    if (!out.local_error.empty()) {
        std::fprintf(stderr, "posfeed-tail: %s\n", out.local_error.c_str());
        return exit_local_error;
    }
    if (result.failed) {
        const pc::fatal_error& e = result.error;
        if (e.status == 0) {
            std::fprintf(stderr, "posfeed-tail: %s\n", e.message.c_str());
            return e.code == "invalid_argument" ? exit_usage : exit_refused;
        }
        std::fprintf(stderr, "posfeed-tail: %u %s: %s\n", e.status,
                     e.code.empty() ? "error" : e.code.c_str(), e.message.c_str());
        return exit_refused;
    }
    if (out.timed_out && !out.count_reached && args.count) {
        std::fprintf(stderr, "posfeed-tail: timed out after %s s with %llu of %llu events\n",
                     seconds_text(*args.timeout).c_str(),
                     static_cast<unsigned long long>(out.printed),
                     static_cast<unsigned long long>(*args.count));
        return exit_timed_out;
    }
    return exit_ok;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"posfeed-tail: prints a posfeed event stream as one JSON line per event, "
                 "reconnecting and resuming on its own"};
    arguments args;
    app.add_option("URL", args.url,
                   "the event source, e.g. http://127.0.0.1:8080/eventsource or "
                   "https://host/eventsource_<RmSystem>; parameters in it are kept")
        ->required();
    app.add_option("--want", args.want, "comma-separated event types, e.g. products,levels")
        ->required();
    auto* key = app.add_option("--api-key", args.api_key,
                               "API key, sent as X-Api-Key (default: $POSFEED_API_KEY when "
                               "--token is not given)");
    auto* token = app.add_option("--token", args.token, "UrlToken, sent as token= (never printed)");
    key->excludes(token);
    token->excludes(key);
    app.add_option("--state", args.state,
                   "file holding the resume point: read at start, rewritten atomically after "
                   "every event that moves it");
    app.add_option("--format", args.format, "packet format")->check(CLI::IsMember({"json", "xml"}));
    app.add_option("--count", args.count,
                   "exit 0 after N events printed (ready is not counted, reset is)")
        ->check(CLI::PositiveNumber);
    app.add_option("--timeout", args.timeout,
                   "stop after S seconds: exit 0, or 3 when --count was not reached")
        ->check(CLI::PositiveNumber);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? exit_ok : exit_usage;
    }
    // From the environment, so the key need not appear in the process list.
    if (args.api_key.empty() && args.token.empty()) {
        if (const char* env = std::getenv("POSFEED_API_KEY"); env != nullptr) {
            args.api_key = env;
        }
    }
    return run(args);
}
