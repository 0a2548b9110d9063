#!/usr/bin/perl
# Drives Request Tracker 5 through its own Perl API (test/rt.sh): one
# ticket story per run; after each operation, a second connection checks
# that what RT reports is what the database holds. Prints one line per
# operation: "op<TAB>ticket<TAB>rt_ok<TAB>persisted<TAB>message".
use strict;
use warnings;
use lib '/usr/share/request-tracker5/lib';
use RT;
use DBI;

RT::LoadConfig();
RT::Init();
my $tag = shift || 'run';
my $dbh = DBI->connect("dbi:Pg:dbname=$ENV{RT_DB};host=$ENV{RT_HOST};port=$ENV{RT_PORT}", 'postgres', '',
                       { AutoCommit => 1, RaiseError => 1 });

sub user {
    my ($name, $priv) = @_;
    my $u = RT::User->new(RT->SystemUser);
    $u->Load($name);
    unless ($u->id) {
        my ($ok, $msg) = $u->Create(Name => $name, EmailAddress => "$name\@example.test",
                                    Privileged => $priv, Password => 'secret123');
        die "user $name: $msg" unless $ok;
    }
    return $u;
}
my $agent = user("agent_$tag", 1);
my $agent2 = user("agent2_$tag", 1);
my $req = user("alice_$tag", 0);
my $queue = RT::Queue->new(RT->SystemUser);
$queue->Load('General');
for my $u ($agent, $agent2) {
    for my $right (qw(OwnTicket TakeTicket StealTicket ModifyTicket DeleteTicket ReplyToTicket CommentOnTicket ShowTicket SeeQueue)) {
        $u->PrincipalObj->GrantRight(Right => $right, Object => $queue);
    }
}
my $everyone = RT::Group->new(RT->SystemUser);
$everyone->LoadSystemInternalGroup('Everyone');
$everyone->PrincipalObj->GrantRight(Right => $_, Object => $queue) for qw(ReplyToTicket ShowTicket CreateTicket);

sub cu { RT::CurrentUser->new($_[0]) }
sub as { my ($u, $id) = @_; my $t = RT::Ticket->new(cu($u)); $t->Load($id); $t }
sub state {
    my $id = shift;
    my ($st, $owner, $lu) = $dbh->selectrow_array('SELECT status, owner, lastupdated FROM tickets WHERE id = ?', undef, $id);
    my ($n) = $dbh->selectrow_array("SELECT count(*) FROM transactions WHERE objecttype = 'RT::Ticket' AND objectid = ?",
                                    undef, $id);
    my ($att) = $dbh->selectrow_array(
        "SELECT count(*) FROM attachments a JOIN transactions x ON x.id = a.transactionid
          WHERE x.objecttype = 'RT::Ticket' AND x.objectid = ?", undef, $id);
    return { status => $st // '', owner => $owner // 0, txns => $n, atts => $att, updated => $lu // '' };
}

# op(name, ticket id, code, expected status or undef): runs it, then checks
sub op {
    my ($name, $id, $code, $want) = @_;
    my $before = state($id);
    my ($ok, $msg) = eval { $code->() };
    if ($@) {
        ($ok, $msg) = (0, "died: $@");
        # RT leaves its database transaction open and aborted: every later
        # statement of this process would fail. Said, and rolled back here.
        if ($RT::Handle->TransactionDepth) {
            $msg .= ' (RT left its transaction open: rolled back by the driver)';
            $RT::Handle->ForceRollback;
        }
    }
    $msg //= '';
    $msg =~ s/\s+/ /g;
    my $after = state($id);
    my $persisted = $after->{txns} > $before->{txns} ? 1 : 0;
    $persisted = 0 if defined $want && $after->{status} ne $want;
    $msg .= ' (RT rewrote LastUpdated all the same)' if !$ok && $after->{updated} ne $before->{updated};
    my $moved = $before->{status} eq $after->{status} ? $after->{status} : "$before->{status} -> $after->{status}";
    print join("\t", $name, $id, $ok ? 1 : 0, $persisted, "$msg [status $moved]"), "\n";
}

sub create {
    my $t = RT::Ticket->new(cu($req));
    my ($id, undef, $msg) = $t->Create(Queue => 'General', Subject => "$tag: printer on fire",
                                       Requestor => [$req->EmailAddress],
                                       MIMEObj => MIME::Entity->build(Data => ["It smokes.\n"], Type => 'text/plain'));
    print join("\t", 'create', $id || 0, $id ? 1 : 0, $id ? 1 : 0, $msg // ''), "\n";
    return $id;
}
sub mime { MIME::Entity->build(Data => ["$_[0]\n"], Type => 'text/plain') }

# 1: the usual life of a ticket
my $a = create();
op('take', $a, sub { as($agent, $a)->Take }, 'new');
op('reply (auto-open)', $a, sub { as($agent, $a)->Correspond(MIMEObj => mime('Try turning it off.')) }, 'open');
op('comment', $a, sub { as($agent, $a)->Comment(MIMEObj => mime('Toner cartridge?')) }, undef);
op('stall', $a, sub { as($agent, $a)->SetStatus('stalled') }, 'stalled');
op('requester reply on stalled', $a, sub { as($req, $a)->Correspond(MIMEObj => mime('Still smoking.')) }, undef);
op('open', $a, sub { as($agent, $a)->SetStatus('open') }, 'open');
op('steal', $a, sub { as($agent2, $a)->Steal }, undef);
op('resolve', $a, sub { as($agent2, $a)->SetStatus('resolved') }, 'resolved');
op('requester reply (reopens resolved)', $a, sub { as($req, $a)->Correspond(MIMEObj => mime('It is back.')) }, 'open');
op('reject', $a, sub { as($agent2, $a)->SetStatus('rejected') }, 'rejected');
op('stall a rejected ticket', $a, sub { as($agent2, $a)->SetStatus('stalled') }, 'stalled');
# 2: deleted, then a requester's reply
my $b = create();
op('delete', $b, sub { as($agent, $b)->SetStatus('deleted') }, 'deleted');
op('requester reply to deleted', $b, sub { as($req, $b)->Correspond(MIMEObj => mime('Hello?')) }, undef);
# 3: merge
my $c = create();
my $d = create();
op('merge', $c, sub { as($agent, $c)->MergeInto($d) }, undef);
op('reply on merged-into', $d, sub { as($agent, $d)->Correspond(MIMEObj => mime('Merged, thanks.')) }, 'open');
