//! `net`, `fs`, `process` and `signal` under detsim: not simulated.
//!
//! Each module offers the common entry points with tokio's names; calling one panics with a
//! message that names the API, says it is not simulated, and suggests `tokio::io::duplex`. The
//! types they would return are uninhabited, so no further method can run.

/// The message every unsimulated entry point panics with.
#[track_caller]
fn not_simulated(api: &str) -> ! {
    panic!(
        "{api} is not simulated by detsim-tokio under --cfg detsim: a deterministic test cannot \
         reach the OS. For tests, connect the two ends with tokio::io::duplex (an in-memory \
         AsyncRead + AsyncWrite pair), or put the I/O behind a trait with an in-memory fake"
    )
}

#[derive(Debug, Clone, Copy)]
enum Never {}

/// tokio's `net`: not simulated under detsim; every entry point panics naming itself.
pub mod net {
    use super::{Never, not_simulated};
    use std::io;
    use std::net::SocketAddr;

    /// tokio's `TcpListener`: `bind` panics under detsim.
    #[derive(Debug)]
    pub struct TcpListener(Never);

    impl TcpListener {
        /// Not simulated: panics naming `tokio::net::TcpListener::bind`.
        pub async fn bind<A>(_addr: A) -> io::Result<TcpListener> {
            not_simulated("tokio::net::TcpListener::bind")
        }

        /// Unreachable: no `TcpListener` exists under detsim.
        pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
            match self.0 {}
        }

        /// Unreachable: no `TcpListener` exists under detsim.
        pub fn local_addr(&self) -> io::Result<SocketAddr> {
            match self.0 {}
        }
    }

    /// tokio's `TcpStream`: `connect` panics under detsim.
    #[derive(Debug)]
    pub struct TcpStream(Never);

    impl TcpStream {
        /// Not simulated: panics naming `tokio::net::TcpStream::connect`.
        pub async fn connect<A>(_addr: A) -> io::Result<TcpStream> {
            not_simulated("tokio::net::TcpStream::connect")
        }

        /// Unreachable: no `TcpStream` exists under detsim.
        pub fn peer_addr(&self) -> io::Result<SocketAddr> {
            match self.0 {}
        }
    }

    /// tokio's `UdpSocket`: `bind` panics under detsim.
    #[derive(Debug)]
    pub struct UdpSocket(Never);

    impl UdpSocket {
        /// Not simulated: panics naming `tokio::net::UdpSocket::bind`.
        pub async fn bind<A>(_addr: A) -> io::Result<UdpSocket> {
            not_simulated("tokio::net::UdpSocket::bind")
        }

        /// Unreachable: no `UdpSocket` exists under detsim.
        pub async fn send_to<A>(&self, _buf: &[u8], _target: A) -> io::Result<usize> {
            match self.0 {}
        }

        /// Unreachable: no `UdpSocket` exists under detsim.
        pub async fn recv_from(&self, _buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
            match self.0 {}
        }
    }

    /// Not simulated: panics naming `tokio::net::lookup_host`.
    pub async fn lookup_host<A>(_host: A) -> io::Result<std::vec::IntoIter<SocketAddr>> {
        not_simulated("tokio::net::lookup_host")
    }
}

/// tokio's `fs`: not simulated under detsim; every entry point panics naming itself.
pub mod fs {
    use super::{Never, not_simulated};
    use std::io;
    use std::path::Path;

    /// Not simulated: panics naming `tokio::fs::read`.
    pub async fn read(_path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
        not_simulated("tokio::fs::read")
    }

    /// Not simulated: panics naming `tokio::fs::read_to_string`.
    pub async fn read_to_string(_path: impl AsRef<Path>) -> io::Result<String> {
        not_simulated("tokio::fs::read_to_string")
    }

    /// Not simulated: panics naming `tokio::fs::write`.
    pub async fn write(_path: impl AsRef<Path>, _contents: impl AsRef<[u8]>) -> io::Result<()> {
        not_simulated("tokio::fs::write")
    }

    /// Not simulated: panics naming `tokio::fs::create_dir_all`.
    pub async fn create_dir_all(_path: impl AsRef<Path>) -> io::Result<()> {
        not_simulated("tokio::fs::create_dir_all")
    }

    /// Not simulated: panics naming `tokio::fs::remove_file`.
    pub async fn remove_file(_path: impl AsRef<Path>) -> io::Result<()> {
        not_simulated("tokio::fs::remove_file")
    }

    /// tokio's `fs::File`: `open` and `create` panic under detsim.
    #[derive(Debug)]
    pub struct File(Never);

    impl File {
        /// Not simulated: panics naming `tokio::fs::File::open`.
        pub async fn open(_path: impl AsRef<Path>) -> io::Result<File> {
            not_simulated("tokio::fs::File::open")
        }

        /// Not simulated: panics naming `tokio::fs::File::create`.
        pub async fn create(_path: impl AsRef<Path>) -> io::Result<File> {
            not_simulated("tokio::fs::File::create")
        }

        /// Unreachable: no `File` exists under detsim.
        pub async fn sync_all(&self) -> io::Result<()> {
            match self.0 {}
        }
    }
}

/// tokio's `process`: not simulated under detsim; `Command`'s run methods panic naming
/// themselves.
pub mod process {
    use super::not_simulated;
    use std::ffi::OsStr;
    use std::io;

    /// tokio's `process::Command`: building works, running panics under detsim.
    #[derive(Debug)]
    pub struct Command(std::process::Command);

    impl Command {
        /// A command for `program` (nothing runs yet).
        pub fn new(program: impl AsRef<OsStr>) -> Command {
            Command(std::process::Command::new(program))
        }

        /// Adds an argument.
        pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
            self.0.arg(arg);
            self
        }

        /// Adds arguments.
        pub fn args<I, S>(&mut self, args: I) -> &mut Command
        where
            I: IntoIterator<Item = S>,
            S: AsRef<OsStr>,
        {
            self.0.args(args);
            self
        }

        /// Not simulated: panics naming `tokio::process::Command::output`.
        pub async fn output(&mut self) -> io::Result<std::process::Output> {
            not_simulated("tokio::process::Command::output")
        }

        /// Not simulated: panics naming `tokio::process::Command::status`.
        pub async fn status(&mut self) -> io::Result<std::process::ExitStatus> {
            not_simulated("tokio::process::Command::status")
        }
    }
}

/// tokio's `signal`: not simulated under detsim; `ctrl_c` panics naming itself.
pub mod signal {
    use super::not_simulated;
    use std::io;

    /// Not simulated: panics naming `tokio::signal::ctrl_c`.
    pub async fn ctrl_c() -> io::Result<()> {
        not_simulated("tokio::signal::ctrl_c")
    }
}
