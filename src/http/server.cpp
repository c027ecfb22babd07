#include "http/server.hpp"

#include "http/connection.hpp"
#include "http/http_error.hpp"
#include "http/service_manager.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <limits>
#include <random>

namespace posfeed::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::size_t worker_count(const core::config& cfg) {
    if (cfg.threads > 0) {
        return static_cast<std::size_t>(cfg.threads);
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

std::vector<asio::any_io_executor>
executors_of(const std::vector<std::unique_ptr<asio::io_context>>& w) {
    std::vector<asio::any_io_executor> out;
    for (const auto& io : w) {
        out.push_back(io->get_executor());
    }
    return out;
}

const std::string& server_full_response() {
    static const std::string text = [] {
        const std::string body =
            error_body(core::error{core::error_code::unavailable,
                                   "the server has reached limits.max_connections; retry later"});
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: "
               "5\r\n"
               "Connection: close\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    return text;
}

/// 64 random bits in hex: names this process among the nodes of one database.
std::string random_node_id() {
    std::random_device rd;
    std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(gen()));
    return text;
}

} // namespace

server::server(const core::config& cfg, store::store& db)
    : cfg_(cfg), db_(db), pool_(std::max<std::size_t>(4, 2 * worker_count(cfg))),
      node_id_(random_node_id()) {
    for (std::size_t i = 0; i < worker_count(cfg); ++i) {
        workers_.push_back(std::make_unique<asio::io_context>(1));
    }
    hub_ = std::make_unique<feed::hub>(executors_of(workers_));
    stats_ = std::make_unique<metrics>(workers_.size());
    writes_ = std::make_unique<rate_limit>(cfg_.limits.writes_per_second, cfg_.limits.write_burst);
    ctx_ = std::unique_ptr<context>(new context{cfg_, db_, *hub_, pool_, *stats_, *writes_});
    db_.set_commit_listener([h = hub_.get(), m = stats_.get()](const store::group_ptr& g) {
        for (const auto& e : g->events) {
            m->published(e.type);
        }
        h->publish(g);
    });
}

server::~server() {
    pool_.stop();
    // Connection coroutines still pending refer to ctx_ and hub_: destroy them (with their
    // io_contexts) first.
    acceptor_.reset();
    workers_.clear();
}

unsigned short server::bind() {
    const auto hp = core::split_host_port(cfg_.listen);
    if (!hp.ok()) {
        throw std::runtime_error(hp.err().message);
    }
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(hp->first, ec);
    if (ec) {
        throw std::runtime_error("listen address '" + hp->first + "' is not an IP address");
    }
    const tcp::endpoint ep{addr, hp->second};
    acceptor_ = std::make_unique<tcp::acceptor>(*workers_.front());
    acceptor_->open(ep.protocol());
    acceptor_->set_option(asio::socket_base::reuse_address(true));
    acceptor_->bind(ep, ec);
    if (ec) {
        throw std::runtime_error("cannot listen on " + cfg_.listen + ": " + ec.message());
    }
    acceptor_->listen(asio::socket_base::max_listen_connections);
    return acceptor_->local_endpoint().port();
}

void server::accept_next() {
    const std::size_t shard = next_worker_++ % workers_.size();
    acceptor_->async_accept(
        *workers_[shard], [this, shard](boost::system::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted || !acceptor_->is_open()) {
                return;
            }
            if (!ec) {
                socket.set_option(tcp::no_delay(true), ec);
                if (ctx_->connections.load() >= cfg_.limits.max_connections) {
                    auto s = std::make_shared<tcp::socket>(std::move(socket));
                    asio::async_write(*s, asio::buffer(server_full_response()),
                                      [s](boost::system::error_code, std::size_t) {
                                          boost::system::error_code ignored;
                                          s->shutdown(tcp::socket::shutdown_both, ignored);
                                      });
                } else {
                    asio::co_spawn(workers_[shard]->get_executor(),
                                   run_connection(*ctx_, std::move(socket), shard), asio::detached);
                }
            } else {
                // Out of file descriptors (or another transient failure): the connection stays
                // in the backlog, so pause before the next accept instead of spinning, and log
                // at most once a second.
                const auto now = std::chrono::steady_clock::now();
                if (now - last_accept_warning_ >= std::chrono::seconds(1)) {
                    last_accept_warning_ = now;
                    spdlog::warn("accept failed: {}; pausing accepts for 50 ms", ec.message());
                }
                auto pause = std::make_shared<asio::steady_timer>(*workers_[shard],
                                                                  std::chrono::milliseconds(50));
                pause->async_wait([this, pause](boost::system::error_code) {
                    if (acceptor_->is_open()) {
                        accept_next();
                    }
                });
                return;
            }
            accept_next();
        });
}

asio::awaitable<void> server::prune_history() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!ctx_->shutting_down) {
        timer.expires_after(std::chrono::milliseconds(cfg_.history.prune_interval_ms));
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec || ctx_->shutting_down) {
            co_return;
        }
        const core::rve cutoff{core::system_now_ms() - cfg_.history.keep_ms};
        auto prune = [this, cutoff] { return db_.prune_events(cutoff); };
        try {
            const std::size_t n = co_await pool_.run(std::move(prune));
            if (n > 0) {
                spdlog::info("pruned {} events older than {}", n, cutoff.str());
            }
        } catch (const std::exception& e) {
            spdlog::error("pruning the event history failed: {}", e.what());
        }
    }
}

asio::awaitable<void> server::watch_revocations() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    // Windows are measured on the database's clock (it stamps revocations, and every node
    // shares it), never this node's own: each starts a second before the previous read, so a
    // revocation committed while we read is not missed; closing a stream twice is harmless.
    std::optional<std::int64_t> since;
    std::uint64_t rounds = 0;
    while (!ctx_->shutting_down) {
        if (since) {
            timer.expires_after(std::chrono::seconds(1));
            auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ec || ctx_->shutting_down) {
                co_return;
            }
        }
        try {
            if (since && ++rounds % 10 == 0) {
                // An open stream is activity: its session does not expire under it.
                auto touch = [this, now = core::system_now_ms(), ids = hub_->stream_credentials()] {
                    for (const auto& id : ids) {
                        db_.touch_session(id, now);
                    }
                    return ids.size();
                };
                co_await pool_.run(std::move(touch));
            }
            auto read = [this, from = since.value_or(std::numeric_limits<std::int64_t>::max())] {
                return db_.revoked_since(from);
            };
            const auto found = co_await pool_.run(std::move(read));
            for (const auto& id : found.ids) {
                ctx_->keys.forget(id);
                hub_->close_credential(id, "the credential was revoked or its session ended");
            }
            since = found.now_ms - 1000;
        } catch (const std::exception& e) {
            spdlog::error("checking for revoked credentials failed: {}", e.what());
            if (!since) {
                since = core::system_now_ms() - 1000;
            }
        }
    }
}

asio::awaitable<void> server::heartbeat(worker_heartbeats& beats, std::size_t worker,
                                        std::chrono::steady_clock::duration period) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!ctx_->shutting_down) {
        beats.beat(worker, std::chrono::steady_clock::now());
        timer.expires_after(period);
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return;
        }
    }
}

void server::ping_watchdog(asio::steady_timer& timer, worker_heartbeats& beats,
                           std::chrono::steady_clock::duration period) {
    // A worker is alive when it beat within two periods (half the watchdog interval).
    if (const auto stale = beats.stale(std::chrono::steady_clock::now(), 2 * period)) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_watchdog_warning_ >= std::chrono::seconds(1)) {
            last_watchdog_warning_ = now;
            spdlog::error(
                "worker {} has not run its event loop for over {} ms: watchdog pings "
                "withheld",
                *stale, std::chrono::duration_cast<std::chrono::milliseconds>(2 * period).count());
        }
    } else {
        service_manager::watchdog();
    }
    timer.expires_after(period);
    timer.async_wait([this, &timer, &beats, period](boost::system::error_code ec) {
        if (!ec) {
            ping_watchdog(timer, beats, period);
        }
    });
}

asio::awaitable<void> server::share_presence() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!ctx_->shutting_down) {
        try {
            auto exchange = [this, local = hub_->local_barcode_watchers()] {
                return db_.exchange_presence(node_id_, local);
            };
            hub_->set_remote_watchers(co_await pool_.run(std::move(exchange)));
        } catch (const std::exception& e) {
            spdlog::warn("sharing stream presence with other nodes failed: {}", e.what());
        }
        timer.expires_after(std::chrono::seconds(1));
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return;
        }
    }
}

int server::run() {
    if (!acceptor_) {
        bind();
    }
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    for (auto& w : workers_) {
        guards.push_back(asio::make_work_guard(*w));
    }
    std::vector<std::thread> threads;
    for (auto& w : workers_) {
        threads.emplace_back([io = w.get()] {
            while (true) {
                try {
                    io->run();
                    return;
                } catch (const std::exception& e) {
                    spdlog::error("worker caught an exception: {}", e.what());
                }
            }
        });
    }
    asio::post(*workers_.front(), [this] { accept_next(); });
    asio::co_spawn(workers_.front()->get_executor(), prune_history(), asio::detached);
    asio::co_spawn(workers_.front()->get_executor(), watch_revocations(), asio::detached);
    asio::co_spawn(workers_.front()->get_executor(), share_presence(), asio::detached);

    asio::io_context main_io;
    asio::signal_set signals(main_io, SIGINT, SIGTERM);
    int signal_number = 0;
    asio::steady_timer watchdog_timer(main_io);
    signals.async_wait([&](boost::system::error_code, int sig) {
        signal_number = sig;
        watchdog_timer.cancel();
    });
    // Under systemd (Type=notify): READY once listening; with WatchdogSec, WATCHDOG=1 pings
    // while every worker's event loop runs (each beats on its own loop), so a hung worker
    // stops the pings and the service manager restarts the process.
    const auto endpoint = acceptor_->local_endpoint();
    service_manager::ready("listening on " + endpoint.address().to_string() + ":" +
                           std::to_string(endpoint.port()));
    worker_heartbeats beats(workers_.size());
    if (const auto interval = service_manager::watchdog_interval()) {
        const auto period =
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(*interval / 4);
        for (std::size_t i = 0; i < workers_.size(); ++i) {
            asio::co_spawn(workers_[i]->get_executor(), heartbeat(beats, i, period),
                           asio::detached);
        }
        ping_watchdog(watchdog_timer, beats, period);
    }
    main_io.run();
    spdlog::info("received signal {}: shutting down", signal_number);
    service_manager::stopping();

    // The shutdown gate: stop accepting, close every stream (clients reconnect elsewhere and
    // resume), finish queued writes, let in-flight responses go out, stop.
    ctx_->shutting_down = true;
    asio::post(*workers_.front(), [this] {
        boost::system::error_code ignored;
        acceptor_->close(ignored);
    });
    hub_->close_all("server shutting down");
    db_.close();
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg_.shutdown_grace_ms);
    while (ctx_->active_requests.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    guards.clear();
    for (auto& w : workers_) {
        w->stop();
    }
    for (auto& t : threads) {
        t.join();
    }
    spdlog::info("shutdown complete");
    return 0;
}

} // namespace posfeed::http
