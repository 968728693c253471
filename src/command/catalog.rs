//! COMMAND and its subcommands: what the command table says about the commands served.
//! Nothing here touches the store.

use crate::protocol::command_table::{self as table, keys};
use crate::protocol::{Args, ClientError, CommandQuery, ListFilter, Reply};

use super::config::glob_match;

/// COMMAND, COUNT, INFO, DOCS, LIST and GETKEYS. Rows come in table order (Redis's come
/// in its hash table's order).
pub fn command<'a>(query: CommandQuery<'a>) -> Reply<'a> {
    match query {
        CommandQuery::All => all(),
        CommandQuery::Count => {
            Reply::Integer(i64::try_from(table::commands().count()).unwrap_or(i64::MAX))
        }
        CommandQuery::Info(names) if names.is_empty() => all(),
        CommandQuery::Info(names) => Reply::CommandInfo(names.iter().map(table::lookup).collect()),
        CommandQuery::Docs(names) if names.is_empty() => {
            Reply::CommandDocs(table::commands().collect())
        }
        CommandQuery::Docs(names) => {
            Reply::CommandDocs(names.iter().filter_map(table::lookup).collect())
        }
        CommandQuery::List(filter) => list(filter),
        CommandQuery::GetKeys { line, flags } => get_keys(line, flags),
    }
}

/// Every command's COMMAND INFO entry.
fn all<'a>() -> Reply<'a> {
    Reply::CommandInfo(table::commands().map(Some).collect())
}

/// COMMAND LIST: the names of every command and subcommand that passes the filter.
fn list<'a>(filter: Option<ListFilter<'_>>) -> Reply<'a> {
    let passes = |name: &str, categories: &[&str]| match filter {
        None => true,
        // No modules are loaded.
        Some(ListFilter::Module(_)) => false,
        Some(ListFilter::AclCategory(category)) => categories.iter().any(|listed| {
            listed
                .strip_prefix('@')
                .is_some_and(|listed| category.eq_ignore_ascii_case(listed.as_bytes()))
        }),
        Some(ListFilter::Pattern(pattern)) => glob_match(pattern, name.as_bytes()),
    };
    Reply::Texts(
        table::commands()
            .flat_map(|spec| std::iter::once(spec).chain(spec.subcommands.iter().copied()))
            .filter(|spec| passes(spec.name, spec.acl_categories))
            .map(|spec| spec.name.to_owned())
            .collect(),
    )
}

/// COMMAND GETKEYS and GETKEYSANDFLAGS.
fn get_keys(line: Args<'_>, with_flags: bool) -> Reply<'_> {
    let args: Vec<&[u8]> = line.iter().collect();
    let found = match keys::find_keys(&args) {
        Ok(found) => found,
        Err(err) => return Reply::Error(ClientError::Keys(err)),
    };
    let key = |position: usize| args.get(position).copied().unwrap_or_default();
    if with_flags {
        Reply::KeysAndFlags(
            found
                .iter()
                .map(|found| (key(found.position), found.flags))
                .collect(),
        )
    } else {
        Reply::Values(
            found
                .iter()
                .map(|found| Some(key(found.position)))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(reply: Reply<'_>) -> Vec<String> {
        match reply {
            Reply::Texts(names) => names,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn list_filters_by_pattern_and_category() {
        let ranges = std::slice::from_ref(&(0..7)).to_vec();
        let filter = |f| names(list(Some(f)));
        let clients = filter(ListFilter::Pattern(b"client*"));
        assert!(clients.contains(&"client".to_owned()));
        assert!(clients.contains(&"client|kill".to_owned()));
        assert!(clients.iter().all(|name| name.starts_with("client")));
        let connection = filter(ListFilter::AclCategory(b"CONNECTION"));
        assert!(connection.contains(&"ping".to_owned()));
        assert!(!connection.contains(&"get".to_owned()));
        assert!(filter(ListFilter::AclCategory(b"nope")).is_empty());
        assert!(filter(ListFilter::Module(b"x")).is_empty());
        let everything = names(list(None));
        assert!(everything.len() > table::commands().count());
        let line = Args::new(b"get key", &ranges);
        assert!(matches!(
            command(CommandQuery::GetKeys { line, flags: false }),
            Reply::Error(ClientError::Keys(keys::KeysError::UnknownCommand))
        ));
    }
}
