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
    let field = store.user_schema().model().username_field().to_owned();
    let username = if field == "username" {
        normalize_username(raw)
    } else {
        raw.trim().to_owned()
    };
    if !username.is_empty() && store.user(&username).await?.is_some() {
        return Err(input_error(format!(
            "Error: That {} is already taken.",
            castellan_store::UserSchema::field_label(&field).to_lowercase()
        )));
    }
    if field == "username" {
        validate_username(&username)?;
        Ok(username)
    } else {
        store.clean_username(&username)
    }
}

/// The user model's own required fields (`REQUIRED_FIELDS`) not given with `--field`: from
/// `CASTELLAN_SUPERUSER_<NAME>` with `--no-input`, else prompted.
fn required_fields(store: &Store, args: &CreateSuperuser) -> Result<Vec<(String, String)>, Error> {
    let mut fields = args.fields.clone();
    for column in store.user_schema().required_fields() {
        if fields.iter().any(|(name, _)| *name == column.name) {
            continue;
        }
        let value = if args.no_input {
            let var = format!("CASTELLAN_SUPERUSER_{}", column.name.to_uppercase());
            env(&var).ok_or_else(|| {
                input_error(format!(
                    "You must use --field {}=VALUE (or set {var}) with --no-input.",
                    column.name
                ))
            })?
        } else {
            loop {
                let value = prompt_line(&format!(
                    "{}: ",
                    castellan_store::UserSchema::field_label(&column.name)
                ))?;
                if value.trim().is_empty() {
                    eprintln!("Error: This field cannot be blank.");
                } else {
                    break value;
                }
            }
        };
        fields.push((column.name.clone(), value));
    }
    Ok(fields)
}

pub(crate) async fn run(store: &Store, args: CreateSuperuser) -> Result<Outcome, Error> {
    let schema = store.user_schema();
    let username_field = schema.model().username_field().to_owned();
    // A model whose username is the e-mail address (or that has none) is not asked for one.
    let asks_email = schema.has_column("email") && username_field != "email";
    let (username, email, password) = if args.no_input {
        let password = env("CASTELLAN_SUPERUSER_PASSWORD");
        let username = args
            .username
            .clone()
            .or_else(|| env("CASTELLAN_SUPERUSER_USERNAME"))
            .ok_or_else(|| input_error("You must use --username with --no-input."))?;
        let username = check_username(store, &username).await?;
        let email = if asks_email {
            args.email
                .clone()
                .or_else(|| env("CASTELLAN_SUPERUSER_EMAIL"))
                .ok_or_else(|| input_error("You must use --email with --no-input."))?
        } else {
            String::new()
        };
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
                None => prompt_line(&format!(
                    "{}: ",
                    castellan_store::UserSchema::field_label(&username_field)
                ))?,
            };
            match check_username(store, &raw).await {
                Ok(u) => break u,
                Err(e) if args.username.is_none() => eprintln!("{e}"),
                Err(e) => return Err(e),
            }
        };
        let email = loop {
            if !asks_email {
                break String::new();
            }
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
    let fields = required_fields(store, &args)?;
    let mut new = NewUser::new(username);
    new.email = email;
    new.password = password;
    // A model without is_staff has no staff (its manager's create_superuser sets none).
    new.is_staff = store.user_schema().has_staff_flag();
    new.is_superuser = true;
    new.fields = fields;
    store.create_user(new).await?;
    println!("Superuser created successfully.");
    Ok(Outcome::Success)
}
