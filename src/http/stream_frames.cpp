#include "http/stream_frames.hpp"

namespace posfeed::http {

std::uint64_t count_delivered(context& ctx, const feed::subscriber& sub, tally& t) {
    std::uint64_t events = 0;
    for (int i = 0; i < core::event_type_count; ++i) {
        if (t[i] != 0) {
            ctx.stats.delivered(sub.shard(), static_cast<core::event_type>(i), t[i]);
            events += t[i];
            t[i] = 0;
        }
    }
    return events;
}

bool gather(const feed::encoded_group& g, const feed::subscription_filter& filter,
            std::vector<boost::asio::const_buffer>& bufs, tally& counts) {
    return gather_into(g, filter, counts, [&bufs](std::string_view text) {
        bufs.push_back(boost::asio::buffer(text));
    });
}

} // namespace posfeed::http
