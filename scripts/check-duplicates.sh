#!/usr/bin/env bash
# The duplication check: fails on any NEW block of six or more lines that
# appears twice in the C sources under src/ include/ tests/ bench/.
#
#   scripts/check-duplicates.sh            check against scripts/duplicates.baseline
#   scripts/check-duplicates.sh --update   rewrite the baseline (after removing a
#                                          duplicate, or to accept one on purpose)
#
# Each file is normalized: comments removed, whitespace collapsed, and lines
# that are blank, #include, or only braces/parentheses/semicolons skipped. Every window of
# six consecutive remaining lines is hashed (MD5 of its text); a hash seen at two
# places (two files, or two places in one file that do not overlap) is a
# duplicate. The baseline lists the hashes of the duplicates known when it was
# written, so only new ones fail; hashes depend on content, not on file names or
# line numbers, so moving code does not disturb them. A duplicate is reported
# with its places, consecutive windows merged into one block.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=scripts/duplicates.baseline
mode=${1:-check}
git ls-files -z --cached --others --exclude-standard -- 'src/*.[ch]' 'include/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]' |
    perl -0 -e '
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);
my ($mode, $baseline) = @ARGV;
my $window = 6;
local $/ = "\0";
my (%places, %text);
while (my $file = <STDIN>) {
    chomp $file;
    next unless -f $file;
    open(my $in, "<", $file) or die "$file: $!";
    local $/ = "\n";
    my ($in_comment, @kept) = (0);
    while (my $line = <$in>) {
        my $n = $.;
        # Comments out, strings and character constants kept as they are.
        my $code = "";
        while (length $line) {
            if ($in_comment) {
                if ($line =~ s{^.*?\*/}{}s) { $in_comment = 0 } else { $line = "" }
            } elsif ($line =~ s{^("(?:[^"\\]|\\.)*"|\x27(?:[^\x27\\]|\\.)*\x27)}{}s) {
                $code .= $1;
            } elsif ($line =~ s{^/\*}{}) {
                $in_comment = 1;
                $code .= " ";
            } elsif ($line =~ m{^//}) {
                $line = "";
            } else {
                $line =~ s{^([^"\x27/]+|.)}{}s;
                $code .= $1;
            }
        }
        $line = $code;
        $line =~ s/\s+/ /g;
        $line =~ s/^ | $//g;
        next if $line =~ /^[{}();,\s]*$/ || $line =~ /^#\s*include\b/;
        push @kept, [$n, $line];
    }
    close $in;
    for my $i (0 .. $#kept - $window + 1) {
        my $body = join("\n", map { $_->[1] } @kept[$i .. $i + $window - 1]);
        my $hash = md5_hex($body);
        push @{$places{$hash}}, [$file, $kept[$i][0], $kept[$i + $window - 1][0], $i];
    }
}
my %dup;
for my $hash (keys %places) {
    my @p = @{$places{$hash}};
    next if @p < 2;
    my $distinct = 0;
    for my $q (@p[1 .. $#p]) {
        $distinct = 1 if $q->[0] ne $p[0][0] || abs($q->[3] - $p[0][3]) >= $window;
    }
    $dup{$hash} = 1 if $distinct;
}
if ($mode eq "--update") {
    open(my $out, ">", $baseline) or die "$baseline: $!";
    print $out "# Hashes of the six-line windows repeated in the C sources when this was\n";
    print $out "# written (scripts/check-duplicates.sh --update). Only new ones fail.\n";
    print $out "$_\n" for sort keys %dup;
    close $out;
    printf "check-duplicates: baseline written, %d known duplicated windows\n", scalar keys %dup;
    exit 0;
}
my %known;
if (open(my $bl, "<", $baseline)) {
    local $/ = "\n";
    while (<$bl>) { chomp; $known{$_} = 1 unless /^#/ || !length }
}
my @new = grep { !$known{$_} } keys %dup;
if (!@new) {
    printf "check-duplicates: no new duplicated block (%d known in %s)\n", scalar keys %dup, $baseline;
    exit 0;
}
# Merge consecutive new windows at the same first place into blocks.
my @rows = sort { $a->[0] cmp $b->[0] or $a->[3] <=> $b->[3] }
           map { my $h = $_; [@{$places{$h}[0]}, $h] } @new;
my @blocks;
for my $r (@rows) {
    my $last = $blocks[-1];
    if ($last && $last->{file} eq $r->[0] && $r->[3] <= $last->{index} + 1) {
        $last->{to} = $r->[2];
        $last->{index} = $r->[3];
    } else {
        push @blocks, {file => $r->[0], from => $r->[1], to => $r->[2], index => $r->[3], hash => $r->[4]};
    }
}
for my $b (@blocks) {
    my @also = map { "$_->[0]:$_->[1]" } @{$places{$b->{hash}}}[1 .. $#{$places{$b->{hash}}}];
    print "check-duplicates: new duplicated block $b->{file}:$b->{from}-$b->{to}, also at @also\n";
}
printf "check-duplicates: %d new duplicated blocks; remove them, or accept one with --update\n", scalar @blocks;
exit 1;
' -- "$mode" "$baseline"
