//! `castellan createsuperuser` (Django's `createsuperuser`).

use castellan_core::password_validation::UserAttributes;
use castellan_core::validators::{normalize_username, validate_email, validate_username};
use castellan_store::{Error, NewUser, Store};

use crate::args::CreateSuperuser;
use crate::output::{input_error, interactive, prompt_line, prompt_password};
use crate::password::{accept_interactively, require_valid};
use crate::Outcome;

const SKIP: &str = "Superuser creation skipped due to not running in a TTY. You can run `castellan createsuperuser --no-input` with CASTELLAN_SUPERUSER_PASSWORD set instead.";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Validates a username as Django's command does: taken, blank, then the field's rules.
async fn check_username(store: &Store, raw: &str) -> Result<String, Error> {
    let username = normalize_username(raw);
    if store.user(&username).await?.is_some() {
        return Err(input_error("Error: That username is already taken."));
    }
    validate_username(&username)?;
    Ok(username)
}

pub(crate) async fn run(store: &Store, args: CreateSuperuser) -> Result<Outcome, Error> {
    let (username, email, password) = if args.no_input {
        let password = env("CASTELLAN_SUPERUSER_PASSWORD");
        let username = args
            .username
            .or_else(|| env("CASTELLAN_SUPERUSER_USERNAME"))
            .ok_or_else(|| input_error("You must use --username with --no-input."))?;
        let username = check_username(store, &username).await?;
        let email = args
            .email
            .or_else(|| env("CASTELLAN_SUPERUSER_EMAIL"))
            .ok_or_else(|| input_error("You must use --email with --no-input."))?;
        // Unlike Django's --noinput, the password from the environment is validated too: a
        // script cannot answer the bypass question, so it says --skip-validation instead.
        if let Some(password) = &password {
            let user = UserAttributes::new()
                .with_username(&username)
                .with_email(&email);
            require_valid(password, &user, args.skip_validation)?;
        }
        (username, email, password)
    } else {
        if !interactive() {
            println!("{SKIP}");
            return Ok(Outcome::Success);
        }
        let username = loop {
            let raw = match &args.username {
                Some(u) => u.clone(),
                None => prompt_line("Username: ")?,
            };
            match check_username(store, &raw).await {
                Ok(u) => break u,
                Err(e) if args.username.is_none() => eprintln!("{e}"),
                Err(e) => return Err(e),
            }
        };
        let email = loop {
            let email = match &args.email {
                Some(e) => e.clone(),
                None => prompt_line("Email address: ")?,
            };
            match validate_email(&email) {
                Ok(()) => break email,
                Err(e) if args.email.is_none() => eprintln!("Error: {e}"),
                Err(e) => return Err(e.into()),
            }
        };
        // Django validates against a user made of the answers so far.
        let user = UserAttributes::new()
            .with_username(&username)
            .with_email(&email);
        let password = loop {
            let first = prompt_password("Password: ")?;
            let second = prompt_password("Password (again): ")?;
            if first != second {
                eprintln!("Error: Your passwords didn't match.");
            } else if first.trim().is_empty() {
                eprintln!("Error: Blank passwords aren't allowed.");
            } else if accept_interactively(&second, &user, args.skip_validation)? {
                break first;
            }
        };
        (username, email, Some(password))
    };
    let mut new = NewUser::new(username);
    new.email = email;
    new.password = password;
    new.is_staff = true;
    new.is_superuser = true;
    store.create_user(new).await?;
    println!("Superuser created successfully.");
    Ok(Outcome::Success)
}
