#!/usr/bin/perl
# Turns the PostgreSQL HTML manual into passages for the demo: one line per passage,
# "page<TAB>title<TAB>text", from each page's <title> and its paragraphs (<p>), merged until a
# passage has about 60 words. Usage: manual-passages.pl DIR > passages.tsv
use strict;
use warnings;

my %entity = (amp => '&', lt => '<', gt => '>', quot => '"', apos => "'", nbsp => ' ');
sub clean {
  my ($s) = @_;
  $s =~ s/<[^>]*>//g;
  $s =~ s/&#x([0-9a-fA-F]+);/chr(hex($1))/ge;
  $s =~ s/&#(\d+);/chr($1)/ge;
  $s =~ s/&(\w+);/exists $entity{$1} ? $entity{$1} : ' '/ge;
  $s =~ s/[\t\r\n ]+/ /g;
  $s =~ s/^ | $//g;
  return $s;
}

binmode(STDOUT, ':encoding(UTF-8)');
my $dir = shift or die "usage: $0 DIR\n";
for my $file (sort glob("$dir/*.html")) {
  open(my $fh, '<:encoding(UTF-8)', $file) or next;
  local $/;
  my $html = <$fh>;
  close $fh;
  my ($title) = $html =~ m{<title>(.*?)</title>}s;
  next unless defined $title;
  $title = clean($title);
  (my $page = $file) =~ s{.*/}{};
  my $passage = '';
  my $emit = sub {
    (my $out = "$page\t$title\t$passage") =~ s/\\/\\\\/g;  # COPY text format escapes backslashes
    print "$out\n" if $passage =~ /\S/;
    $passage = '';
  };
  while ($html =~ m{<p\b[^>]*>(.*?)</p>}gs) {
    my $text = clean($1);
    next if $text eq '';
    $passage = $passage eq '' ? $text : "$passage $text";
    my $words = () = $passage =~ /\S+/g;
    $emit->() if $words >= 60;
  }
  $emit->();
}
