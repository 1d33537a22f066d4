//! `cargo run -p minimal`, then open http://127.0.0.1:8000/.

use getrandom::SysRng;
use rand_core::{Rng, UnwrapErr};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://minimal.sqlite3".to_owned());
    // Share Django's SECRET_KEY to share its logins; without one, a random key (logins end on restart).
    let secret = match std::env::var("SECRET_KEY") {
        Ok(key) => key.into_bytes(),
        Err(_) => {
            let mut key = [0u8; 32];
            UnwrapErr(SysRng).fill_bytes(&mut key);
            key.to_vec()
        }
    };
    let store = castellan_axum::Store::connect(&url).await?;
    minimal::setup(&store).await?;
    let app = minimal::app(store, &secret).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
    println!("http://127.0.0.1:8000/ (alice / correct horse battery staple)");
    // The peer address feeds the login throttle.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).await?;
    Ok(())
}
