
#compdef ordercli

_ordercli_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _ORDERCLI_COMPLETE=complete_zsh ordercli)
}

compdef _ordercli_completion ordercli

