// A stand-in for systemd's notification socket, for the systemd test: binds a Unix datagram
// socket at the path given and prints every message it receives as one line on standard output
// (the message's own newlines turned into '|'), e.g. `READY=1|STATUS=listening on ...`.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: notify-listener SOCKET_PATH\n");
        return 2;
    }
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (fd < 0 || std::strlen(argv[1]) >= sizeof addr.sun_path) {
        std::perror("notify-listener: socket");
        return 1;
    }
    std::strcpy(addr.sun_path, argv[1]);
    unlink(argv[1]);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("notify-listener: bind");
        return 1;
    }
    std::printf("listening\n");
    std::fflush(stdout);
    char buf[4096];
    while (true) {
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) {
            std::perror("notify-listener: recv");
            return 1;
        }
        std::string line(buf, static_cast<std::size_t>(n));
        while (!line.empty() && line.back() == '\n') {
            line.pop_back();
        }
        for (auto& c : line) {
            if (c == '\n') {
                c = '|';
            }
        }
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
    }
}
