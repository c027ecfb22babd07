// The live phase of a stream (live_stream), one test per state transition that matters: a write
// that would block, the peer gone, the timer (keepalive, write timeout), the queue overflowing,
// the credential closed, shutdown. Each stream runs on a real loopback TCP connection whose
// client side the test reads (or does not) itself.

#include "http/live_stream.hpp"

#include "http/blocking.hpp"
#include "http/connection_slot.hpp"
#include "store/open_store.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <random>
#include <string>
#include <thread>

namespace posfeed::http {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

/// The `id:` line of the group at `rve`.
std::string id_line(std::int64_t rve) {
    return "id: " + core::rve{rve}.str() + "\n";
}

class LiveStream : public ::testing::Test {
  protected:
    void SetUp() override {
        std::random_device rd;
        dir_ = fs::temp_directory_path() / ("posfeed_live_" + std::to_string(rd()));
        fs::create_directories(dir_);
        db_ = store::open_store("sqlite:" + (dir_ / "t.db").string());
        ASSERT_TRUE(db_->create_rmsystem("rm").ok());
        cfg_.feed.keepalive_ms = 600000; // no keepalive unless a test asks for one
        cfg_.feed.debug_interval_ms = 600000;
    }

    void TearDown() override {
        client_.reset();
        if (runner_.joinable()) {
            guard_.reset();
            io_->stop();
            runner_.join();
        }
        // Destroys what the loop still holds (live streams detach from the hub, which must
        // still be there).
        io_.reset();
        db_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    /// Builds the context from cfg_ (tests change it first) and runs the shard's loop.
    void start_shard() {
        hub_ = std::make_unique<feed::hub>(std::vector<asio::any_io_executor>{io_->get_executor()});
        ctx_ = std::unique_ptr<context>(new context{cfg_, *db_, *hub_, pool_, stats_, writes_});
        runner_ = std::thread([this] { io_->run(); });
    }

    /// Runs `fn` on the shard and waits for it.
    void on_shard(std::function<void()> fn) {
        std::promise<void> done;
        asio::post(*io_, [&] {
            fn();
            done.set_value();
        });
        done.get_future().get();
    }

    /// Opens a loopback connection and starts a live stream of `want` on its server side,
    /// ready at `ready`. `tune` may set socket options on the server socket first.
    void open_stream(core::type_mask want = core::bit(core::event_type::products),
                     core::rve ready = core::rve{100},
                     std::function<void(tcp::socket&)> tune = nullptr) {
        tcp::acceptor acceptor(*io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        std::future<tcp::socket> accepted = acceptor.async_accept(asio::use_future);
        client_.emplace(*io_);
        client_->connect(acceptor.local_endpoint());
        tcp::socket server = accepted.get();
        server.set_option(tcp::no_delay(true)); // as the server's acceptor does
        if (tune) {
            tune(server);
        }
        stream_request sr;
        sr.cred.id = "key1";
        sr.cred.rmsystem = "rm";
        sr.want.mask = want;
        sr.filter.want = want;
        on_shard([&] {
            auto live = std::make_shared<live_stream>(*ctx_, io_->get_executor(), 0, sr, "/test");
            connection_slot slot(*ctx_);
            slot.begin_request();
            live->start(std::move(server), std::move(slot), ready, live_stream::clock::now());
        });
    }

    /// Publishes a group of one product event at `rve`.
    void publish(std::int64_t rve, std::string body = R"({"Pid":1})") {
        auto g = std::make_shared<const store::event_group>(store::event_group{
            "rm", core::rve{rve}, {store::event{core::event_type::products, "", "", body}}});
        hub_->publish(g);
    }

    /// Reads from the client until `text` has arrived (true) or the server closed (false).
    bool read_until(std::string_view text) {
        while (received_.find(text) == std::string::npos) {
            char buf[65536];
            boost::system::error_code ec;
            const std::size_t n = client_->read_some(asio::buffer(buf), ec);
            if (ec) {
                return false;
            }
            received_.append(buf, n);
        }
        return true;
    }

    /// Reads until the server closes the connection; returns everything received.
    std::string read_to_end() {
        read_until(std::string(1, '\0')); // never sent: reads to EOF
        return received_;
    }

    /// Waits (without any timing assertion) until `done()` holds, for up to 30 s.
    static bool eventually(const std::function<bool()>& done) {
        for (int i = 0; i < 3000; ++i) {
            if (done()) {
                return true;
            }
            std::this_thread::sleep_for(10ms);
        }
        return done();
    }

    fs::path dir_;
    std::unique_ptr<store::store> db_;
    core::config cfg_;
    std::unique_ptr<asio::io_context> io_ = std::make_unique<asio::io_context>(1);
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_{
        asio::make_work_guard(*io_)};
    std::unique_ptr<feed::hub> hub_;
    blocking_pool pool_{1};
    metrics stats_{1};
    rate_limit writes_{1000, 1000};
    std::unique_ptr<context> ctx_;
    std::thread runner_;
    std::optional<tcp::socket> client_; ///< the client side of the stream
    std::string received_;
};

TEST_F(LiveStream, DeliversGroupsAfterTheReadyRveInOrderWithTheirIds) {
    start_shard();
    open_stream();
    publish(90); // at or before ready (100): the replay covered it
    publish(100);
    publish(101, R"({"Pid":101})");
    publish(102, R"({"Pid":102})");
    ASSERT_TRUE(read_until("\"Pid\":102"));
    EXPECT_EQ(received_.find("\"Pid\":1,"), std::string::npos) << received_;
    const auto first = received_.find(id_line(101) + "event: products\n");
    const auto second = received_.find(id_line(102) + "event: products\n");
    ASSERT_NE(first, std::string::npos) << received_;
    ASSERT_NE(second, std::string::npos) << received_;
    EXPECT_LT(first, second);
    EXPECT_EQ(ctx_->connections.load(), 1);
    EXPECT_EQ(ctx_->active_requests.load(), 1);
}

TEST_F(LiveStream, AWriteThatWouldBlockFinishesWhenTheClientReads) {
    cfg_.limits.subscriber_queue_bytes = 64 << 20;
    start_shard();
    // Buffers of a few loopback segments (smaller ones stall on the kernel's silly-window
    // avoidance), and far more data than they hold: the writes block until the client reads.
    open_stream(core::bit(core::event_type::products), core::rve{100}, [](tcp::socket& s) {
        s.set_option(asio::socket_base::send_buffer_size(128 * 1024));
    });
    client_->set_option(asio::socket_base::receive_buffer_size(256 * 1024));
    const std::string big(8000, 'x');
    for (int i = 1; i <= 200; ++i) {
        publish(100 + i, R"({"Pid":)" + std::to_string(i) + R"(,"Description":")" + big + "\"}");
    }
    ASSERT_TRUE(read_until("\"Pid\":200,"));
    for (int i = 1; i <= 200; ++i) {
        const std::string id = id_line(100 + i);
        EXPECT_EQ(received_.find(id), received_.rfind(id)) << "twice: " << id;
        EXPECT_NE(received_.find(id), std::string::npos) << "missing: " << id;
    }
    EXPECT_EQ(stats_.slow_consumers(), 0u);
}

TEST_F(LiveStream, EndsWhenThePeerCloses) {
    start_shard();
    open_stream();
    ASSERT_EQ(hub_->subscriber_count(), 1u);
    client_->close();
    EXPECT_TRUE(eventually([this] { return hub_->subscriber_count() == 0; }));
    EXPECT_TRUE(eventually([this] { return ctx_->connections.load() == 0; }));
    EXPECT_EQ(ctx_->active_requests.load(), 0);
}

TEST_F(LiveStream, SendsAKeepaliveWhenIdle) {
    cfg_.feed.keepalive_ms = 100;
    start_shard();
    open_stream();
    EXPECT_TRUE(read_until(": keepalive\n"));
    // Still live after it: events keep coming.
    publish(101);
    EXPECT_TRUE(read_until(id_line(101)));
}

TEST_F(LiveStream, AClosedCredentialEndsTheStreamWithTheLastChunk) {
    start_shard();
    open_stream();
    hub_->close_credential("another key", "revoked");
    publish(101);
    ASSERT_TRUE(read_until(id_line(101))); // another credential's close is not ours
    hub_->close_credential("key1", "the credential was revoked");
    const std::string all = read_to_end();
    EXPECT_TRUE(all.ends_with("0\r\n\r\n")) << all;
    EXPECT_TRUE(eventually([this] { return hub_->subscriber_count() == 0; }));
    EXPECT_TRUE(eventually([this] { return ctx_->connections.load() == 0; }));
}

TEST_F(LiveStream, ShutdownEndsEveryStreamWithTheLastChunk) {
    start_shard();
    open_stream();
    hub_->close_all("server shutting down");
    const std::string all = read_to_end();
    EXPECT_TRUE(all.ends_with("0\r\n\r\n")) << all;
    EXPECT_TRUE(eventually([this] { return ctx_->active_requests.load() == 0; }));
}

TEST_F(LiveStream, AClientThatDoesNotReadIsCutAsASlowConsumerPastTheQueueLimit) {
    cfg_.limits.subscriber_queue_bytes = 64 * 1024;
    start_shard();
    open_stream(core::bit(core::event_type::products), core::rve{100},
                [](tcp::socket& s) { s.set_option(asio::socket_base::send_buffer_size(4096)); });
    client_->set_option(asio::socket_base::receive_buffer_size(4096));
    const std::string big(8000, 'x');
    for (int i = 1; i <= 200 && hub_->subscriber_count() > 0; ++i) {
        publish(100 + i, R"({"Pid":)" + std::to_string(i) + R"(,"Description":")" + big + "\"}");
    }
    EXPECT_TRUE(eventually([this] { return hub_->subscriber_count() == 0; }));
    EXPECT_EQ(stats_.slow_consumers(), 1u);
    read_to_end(); // the connection is closed, not left hanging
}

TEST_F(LiveStream, AWriteThatMakesNoProgressTimesOut) {
    cfg_.limits.subscriber_queue_bytes = 64 << 20; // never overflows
    cfg_.limits.write_timeout_ms = 200;
    start_shard();
    open_stream(core::bit(core::event_type::products), core::rve{100},
                [](tcp::socket& s) { s.set_option(asio::socket_base::send_buffer_size(4096)); });
    client_->set_option(asio::socket_base::receive_buffer_size(4096));
    const std::string big(8000, 'x');
    for (int i = 1; i <= 100; ++i) {
        publish(100 + i, R"({"Pid":)" + std::to_string(i) + R"(,"Description":")" + big + "\"}");
    }
    EXPECT_TRUE(eventually([this] { return hub_->subscriber_count() == 0; }));
    EXPECT_EQ(stats_.slow_consumers(), 1u);
    EXPECT_TRUE(eventually([this] { return ctx_->connections.load() == 0; }));
}

} // namespace
} // namespace posfeed::http
