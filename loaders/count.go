package loaders

import (
	"strconv"

	"github.com/99designs/gqlgen/graphql"
)

// tree follows an operation's fields for the dispatcher: which have started
// and finished, and, for each object gqlgen resolves fields on, which of its
// fields are queued behind a plain field's subtree (see dispatch.go). It is
// guarded by the dispatcher's lock.
type tree struct {
	nodes   map[*graphql.FieldContext]*fieldNode
	objects map[objectKey]*object
}

// fieldNode is a field that started.
type fieldNode struct {
	// remaining counts the field itself until it returns, and its counted
	// descendants that have not returned: 0 once its subtree is complete.
	remaining int
	parent    *fieldNode
	// runningIn is the object whose running plain field this is, if any.
	runningIn *object
}

// objectKey names one object of a result: the field whose result holds it
// (nil for the operation's root) and its position in that result's lists.
type objectKey struct {
	field *graphql.FieldContext
	path  string
}

// object is one object gqlgen resolves fields on.
type object struct {
	expected, started int
	// concurrent says a resolver field started: gqlgen has resolved the
	// plain fields and runs the resolvers, all at once.
	concurrent bool
	// running is the plain field being resolved, with its subtree.
	running *fieldNode
	// blocked is this object's share of the dispatcher's blocked count.
	blocked int
}

// objectFields is how many fields gqlgen resolves on the object at path.
type objectFields struct {
	path string
	n    int
}

func newTree(root int) tree {
	t := tree{nodes: map[*graphql.FieldContext]*fieldNode{}, objects: map[objectKey]*object{}}
	// The root fields of a query all run concurrently.
	t.objects[objectKey{}] = &object{expected: root, concurrent: true}
	return t
}

func (t *tree) has(fc *graphql.FieldContext) bool {
	_, ok := t.nodes[fc]
	return ok
}

// keyOf names the object fc's field is resolved on: the root's when its
// parent is no field that started (gqlgen gives root fields a parent
// context of its own).
func (t *tree) keyOf(fc *graphql.FieldContext) objectKey {
	path := ""
	p := fc.Parent
	for p != nil && p.Index != nil {
		path = strconv.Itoa(*p.Index) + "," + path
		p = p.Parent
	}
	if _, ok := t.nodes[p]; !ok && path == "" {
		return objectKey{}
	}
	return objectKey{field: p, path: path}
}

// began notes fc's field starting; false when it belongs to no counted
// object.
func (t *tree) began(d *dispatcher, fc *graphql.FieldContext) bool {
	key := t.keyOf(fc)
	obj := t.objects[key]
	if obj == nil || obj.started >= obj.expected {
		return false
	}
	n := &fieldNode{remaining: 1, parent: t.nodes[key.field]}
	t.nodes[fc] = n
	obj.started++
	if obj.running != nil {
		obj.running.runningIn = nil
		obj.running = nil
	}
	if fc.IsResolver {
		obj.concurrent = true
	} else if !obj.concurrent {
		obj.running, n.runningIn = n, obj
	}
	t.rebalance(d, obj)
	return true
}

// finished notes fc's field returning with kids on its result; false when
// the field never started.
func (t *tree) finished(d *dispatcher, fc *graphql.FieldContext, kids []objectFields, total int) bool {
	n := t.nodes[fc]
	if n == nil {
		return false
	}
	for _, k := range kids {
		t.objects[objectKey{fc, k.path}] = &object{expected: k.n}
	}
	for p := n; p != nil; p = p.parent {
		p.remaining += total - 1
		if p.remaining == 0 && p.runningIn != nil {
			t.rebalance(d, p.runningIn)
		}
	}
	return true
}

// rebalance recomputes how many of obj's fields wait behind its running
// plain field: all it has not started, while that field's subtree is not
// complete.
func (t *tree) rebalance(d *dispatcher, obj *object) {
	b := 0
	if !obj.concurrent && obj.running != nil && obj.running.remaining > 0 {
		b = obj.expected - obj.started
	}
	d.blocked += b - obj.blocked
	obj.blocked = b
}
