#include "http/handlers.hpp"

namespace posfeed::http {

boost::asio::awaitable<core::result<auth::credential>> authenticate(context& ctx,
                                                                    const request& req) {
    const auto key = header(req, "X-Api-Key");
    if (!key) {
        co_return core::error{core::error_code::unauthenticated,
                              "no credential: send an X-Api-Key header"};
    }
    auto lookup = [&ctx, k = std::string(*key)] { return auth::authenticate_api_key(ctx.db, k); };
    co_return co_await ctx.pool.run(std::move(lookup));
}

} // namespace posfeed::http
