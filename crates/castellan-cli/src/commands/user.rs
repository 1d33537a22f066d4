//! `castellan user …`.

use castellan_core::password_validation::UserAttributes;
use castellan_core::validators::normalize_username;
use castellan_core::User;
use castellan_store::{Error, NewUser, ObjectHolder, Store, UserChanges};
use serde_json::json;

use crate::args::UserCmd;
use crate::output::{self, stdin_password};
use crate::password::{accept_interactively, require_valid};
use crate::Outcome;

fn user_json(u: &User) -> serde_json::Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "is_active": u.is_active,
        "is_staff": u.is_staff,
        "is_superuser": u.is_superuser,
        "has_usable_password": u.has_usable_password(),
        "date_joined": u.date_joined.map(|t| t.to_rfc3339()),
        "last_login": u.last_login.map(|t| t.to_rfc3339()),
    })
}

pub(crate) async fn run(store: &Store, cmd: UserCmd) -> Result<Outcome, Error> {
    match cmd {
        UserCmd::Create {
            username,
            email,
            password_stdin,
            skip_validation,
            staff,
            superuser,
            inactive,
            fields,
        } => {
            let password = if password_stdin {
                let password = stdin_password()?;
                let user = UserAttributes::new()
                    .with_username(normalize_username(&username))
                    .with_email(&email);
                if output::interactive() {
                    // Typed on a terminal: Django's question, answered there.
                    if !accept_interactively(&password, &user, skip_validation)? {
                        return Err(output::input_error("aborted: the user was not created"));
                    }
                } else {
                    require_valid(&password, &user, skip_validation)?;
                }
                Some(password)
            } else {
                None
            };
            let user = store
                .create_user(NewUser {
                    username,
                    email,
                    password,
                    is_staff: staff,
                    is_superuser: superuser,
                    is_active: !inactive,
                    fields,
                    ..NewUser::default()
                })
                .await?;
            println!("Created user '{}'.", user.username);
        }
        UserCmd::List(a) => {
            let users = store.users().await?;
            if a.json {
                output::json(&json!(users.iter().map(user_json).collect::<Vec<_>>()));
            } else {
                for u in &users {
                    let mut flags = Vec::new();
                    if !u.is_active {
                        flags.push("inactive");
                    }
                    if u.is_staff {
                        flags.push("staff");
                    }
                    if u.is_superuser {
                        flags.push("superuser");
                    }
                    println!(
                        "{}{}",
                        u.username,
                        if flags.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", flags.join(", "))
                        }
                    );
                }
            }
        }
        UserCmd::Show(a) => {
            let user = store
                .user(&a.username)
                .await?
                .ok_or_else(|| Error::NotFound {
                    what: "user",
                    name: a.username.clone(),
                })?;
            let groups = store.user_groups(&a.username).await?;
            let principal = store.principal_for_user(&user).await?;
            let direct = if user.is_superuser {
                Vec::new()
            } else {
                principal.get_user_permissions()
            };
            if a.json {
                let mut v = user_json(&user);
                v["groups"] = json!(groups);
                v["user_permissions"] = json!(direct);
                output::json(&v);
            } else {
                println!("username:      {}", user.username);
                println!("email:         {}", user.email);
                println!("name:          {} {}", user.first_name, user.last_name);
                println!("active:        {}", user.is_active);
                println!("staff:         {}", user.is_staff);
                println!("superuser:     {}", user.is_superuser);
                println!(
                    "password:      {}",
                    if user.has_usable_password() {
                        "set"
                    } else {
                        "unusable"
                    }
                );
                if let Some(joined) = user.date_joined {
                    println!("date joined:   {}", joined.to_rfc3339());
                }
                println!("groups:        {}", groups.join(", "));
                println!("permissions:   {}", direct.join(", "));
            }
        }
        UserCmd::Update {
            username,
            email,
            first_name,
            last_name,
            staff,
            superuser,
            active,
        } => {
            let changes = UserChanges {
                email,
                first_name,
                last_name,
                is_staff: staff.map(Into::into),
                is_superuser: superuser.map(Into::into),
                is_active: active.map(Into::into),
            };
            store.update_user(&username, changes).await?;
            println!("Updated user '{username}'.");
        }
        UserCmd::Delete { username } => {
            store.delete_user(&username).await?;
            println!("Deleted user '{username}'.");
        }
        UserCmd::AddGroup { username, groups } => {
            let n = store.add_user_to_groups(&username, &groups).await?;
            println!("Added '{username}' to {n} group(s).");
        }
        UserCmd::RemoveGroup { username, groups } => {
            let n = store.remove_user_from_groups(&username, &groups).await?;
            println!("Removed '{username}' from {n} group(s).");
        }
        UserCmd::Grant {
            username,
            perms,
            object: Some(object),
        } => {
            let holder = ObjectHolder::User(&username);
            return super::objects::grant(store, holder, &perms, &object, true).await;
        }
        UserCmd::Revoke {
            username,
            perms,
            object: Some(object),
        } => {
            let holder = ObjectHolder::User(&username);
            return super::objects::grant(store, holder, &perms, &object, false).await;
        }
        UserCmd::Grant {
            username, perms, ..
        } => {
            let n = store.grant_user(&username, &perms).await?;
            println!("Granted {n} permission(s) to '{username}'.");
        }
        UserCmd::Revoke {
            username, perms, ..
        } => {
            let n = store.revoke_user(&username, &perms).await?;
            println!("Revoked {n} permission(s) from '{username}'.");
        }
    }
    Ok(Outcome::Success)
}
