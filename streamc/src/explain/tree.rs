//! Spark's tree text (`TreeNode.treeString`): a node per line, children below it, `:- ` before
//! every child but the last and `+- ` before the last, with `:  ` continuing a line of siblings.

/// A node of an explained plan: its line, its children.
#[derive(Debug, Clone)]
pub struct Node {
    pub label: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn new(label: impl Into<String>, children: Vec<Node>) -> Node {
        Node { label: label.into(), children }
    }

    pub fn leaf(label: impl Into<String>) -> Node {
        Node::new(label, Vec::new())
    }

    /// The tree as Spark prints it.
    pub fn render(&self, out: &mut String) {
        self.render_at("", "", out);
    }

    fn render_at(&self, first: &str, rest: &str, out: &mut String) {
        out.push_str(first);
        out.push_str(&self.label);
        out.push('\n');
        let n = self.children.len();
        for (i, c) in self.children.iter().enumerate() {
            let last = i + 1 == n;
            let head = format!("{rest}{}", if last { "+- " } else { ":- " });
            let tail = format!("{rest}{}", if last { "   " } else { ":  " });
            c.render_at(&head, &tail, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Node;

    #[test]
    fn renders_like_spark_tree_string() {
        let t = Node::new("Join", vec![Node::new("A", vec![Node::leaf("a1")]), Node::new("B", vec![Node::leaf("b1")])]);
        let mut s = String::new();
        t.render(&mut s);
        assert_eq!(s, "Join\n:- A\n:  +- a1\n+- B\n   +- b1\n");
    }
}
