//! The steps of a [`PromptChain`](cairn_core::chain::PromptChain) under
//! construction: tool and API steps found by their join id (`tool_use_id`,
//! `request_id`) and filled in place as their events and spans are folded,
//! other events a step each.

use std::collections::HashMap;

use cairn_core::chain::v1::{ApiCall, Prompt, Step, ToolCall, step::Kind};

/// Which join a step was opened by.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Join {
    Tool,
    Api,
}

/// Join id -> step index: a short list, a map once it grows.
#[derive(Default)]
struct Index<'a> {
    list: [(Option<Join>, &'a str, usize); LIST_MAX],
    len: usize,
    map: HashMap<(bool, &'a str), usize>,
}

/// Past this many ids the index is a hash map.
const LIST_MAX: usize = 16;

impl<'a> Index<'a> {
    fn get(&self, join: Join, id: &str) -> Option<usize> {
        if self.len < LIST_MAX {
            self.list
                .iter()
                .take(self.len)
                .find(|(j, k, _)| *j == Some(join) && *k == id)
                .map(|&(_, _, i)| i)
        } else {
            self.map.get(&(join == Join::Tool, id)).copied()
        }
    }

    /// Adds an id not in the index.
    fn insert(&mut self, join: Join, id: &'a str, i: usize) {
        if let Some(slot) = self.list.get_mut(self.len) {
            *slot = (Some(join), id, i);
            self.len += 1;
            if self.len == LIST_MAX {
                self.map.extend(
                    self.list
                        .iter()
                        .filter_map(|&(j, k, i)| Some(((j? == Join::Tool, k), i))),
                );
            }
        } else {
            self.map.insert((join == Join::Tool, id), i);
        }
    }
}

/// The record's steps, built in place: tool and API steps are found by
/// their join id and filled as their events arrive.
pub(super) struct Builder<'a> {
    pub steps: Vec<Step>,
    ids: Index<'a>,
    pub prompt: Option<Prompt>,
}

impl<'a> Builder<'a> {
    pub fn new(mut steps: Vec<Step>, capacity: usize) -> Self {
        steps.clear();
        steps.reserve(capacity);
        Builder {
            steps,
            ids: Index::default(),
            prompt: None,
        }
    }

    pub fn step(&mut self, sequence: u64, agent_id: Option<&str>, kind: Kind) {
        self.steps.push(Step {
            sequence,
            agent_id: agent_id.unwrap_or_default().to_owned(),
            kind: Some(kind),
        });
    }

    /// Finds the step joined by `id`, or opens one (events without the id
    /// get a step of their own); claims it for `sequence` and `agent`.
    fn joined(
        &mut self,
        join: Join,
        id: Option<&'a str>,
        sequence: u64,
        agent: Option<&str>,
        init: impl FnOnce(String) -> Kind,
    ) -> Option<&mut Kind> {
        let found = id.and_then(|id| self.ids.get(join, id));
        let idx = match found {
            Some(i) => i,
            None => {
                let i = self.steps.len();
                self.steps.push(Step {
                    sequence,
                    agent_id: String::new(),
                    kind: Some(init(id.unwrap_or_default().to_owned())),
                });
                if let Some(id) = id {
                    self.ids.insert(join, id, i);
                }
                i
            }
        };
        let s = self.steps.get_mut(idx)?;
        s.sequence = s.sequence.min(sequence);
        if s.agent_id.is_empty()
            && let Some(a) = agent
        {
            s.agent_id = a.to_owned();
        }
        s.kind.as_mut()
    }

    pub fn tool(
        &mut self,
        id: Option<&'a str>,
        sequence: u64,
        agent: Option<&str>,
    ) -> Option<&mut ToolCall> {
        let init = |tool_use_id| {
            Kind::Tool(ToolCall {
                tool_use_id,
                ..ToolCall::default()
            })
        };
        match self.joined(Join::Tool, id, sequence, agent, init)? {
            Kind::Tool(t) => Some(t),
            _ => None,
        }
    }

    pub fn api(
        &mut self,
        id: Option<&'a str>,
        sequence: u64,
        agent: Option<&str>,
    ) -> Option<&mut ApiCall> {
        let init = |request_id| {
            Kind::Api(ApiCall {
                request_id,
                ..ApiCall::default()
            })
        };
        match self.joined(Join::Api, id, sequence, agent, init)? {
            Kind::Api(a) => Some(a),
            _ => None,
        }
    }

    /// All steps, ordered by the sequence of their first event; at equal
    /// sequence, other steps, then tool calls, then API calls, each in the
    /// order they were opened.
    pub fn take_steps(&mut self) -> Vec<Step> {
        self.steps.sort_by_key(|s| {
            let class = match s.kind {
                Some(Kind::Tool(_)) => 1,
                Some(Kind::Api(_)) => 2,
                _ => 0,
            };
            (s.sequence, class)
        });
        // The record's own list at its exact size; the builder's stays
        // with the caller for the next fold.
        self.steps.drain(..).collect()
    }
}
