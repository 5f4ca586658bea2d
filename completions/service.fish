# fish completion for service(8) (merit). Generated from the command table; do not edit.
function __merit_service_words --argument-names what --description 'service: the directory options typed so far (pass) or the positional words (pos)'
    set -l toks (commandline -opc)
    set -l i 2
    while test $i -le (count $toks)
        switch $toks[$i]
            case --root --scan-dir --available-dir --enabled-dir
                set -l j (math $i + 1)
                if test $what = pass; and test $j -le (count $toks)
                    printf '%s\n' $toks[$i] $toks[$j]
                end
                set i (math $i + 2)
                continue
            case '--root=*' '--scan-dir=*' '--available-dir=*' '--enabled-dir=*'
                if test $what = pass
                    printf '%s\n' $toks[$i]
                end
            case --timeout
                set i (math $i + 2)
                continue
            case '-*'
            case '*'
                if test $what = pos
                    printf '%s\n' $toks[$i]
                end
        end
        set i (math $i + 1)
    end
end
function __merit_service_names --description 'service: available service names'
    set -l toks (commandline -opc)
    $toks[1] (__merit_service_words pass) --list-names 2>/dev/null
end
function __merit_service_state --description 'service: what the next word is: first, name, command, logs or none'
    set -l pos (__merit_service_words pos)
    set -l named enable disable start stop status restart reload resup unsup logs needs needed-by
    switch (count $pos)
        case 0
            echo first
        case 1
            if contains -- $pos[1] $named
                echo name
            else if not contains -- $pos[1] list graph
                echo command
            else
                echo none
            end
        case '*'
            if contains -- logs $pos
                echo logs
            else
                echo none
            end
    end
end
complete -c service -f
complete -c service -n 'not contains -- (__merit_service_state) none logs' -l root -r -a '(__fish_complete_directories)' -d 'prefix of the three directories'
complete -c service -n 'not contains -- (__merit_service_state) none logs' -l scan-dir -r -a '(__fish_complete_directories)' -d 'the directory s6-svscan watches'
complete -c service -n 'not contains -- (__merit_service_state) none logs' -l available-dir -r -a '(__fish_complete_directories)' -d 'the service definitions'
complete -c service -n 'not contains -- (__merit_service_state) none logs' -l enabled-dir -r -a '(__fish_complete_directories)' -d 'the links of services started at boot'
complete -c service -n 'not contains -- (__merit_service_state) none logs' -l timeout -x -d 'how long to wait for a service (default 30)'
complete -c service -n 'not contains -- (__merit_service_state) none logs' -l json -d 'JSON output for list, status, needs, needed-by and graph'
complete -c service -n 'not contains -- (__merit_service_state) none logs' -l no-deps -d 'start or stop the service alone, not its dependencies'
complete -c service -n 'not contains -- (__merit_service_state) none logs' -l no-color -d 'never colour the output'
complete -c service -n 'not contains -- (__merit_service_state) none logs' -l help -s h -d 'show the usage'
complete -c service -n 'test (__merit_service_state) = first' -a list -d 'show every defined service, its status and whether it starts at boot'
complete -c service -n 'test (__merit_service_state) = first' -a enable -d 'start the service at boot (does not start it now)'
complete -c service -n 'test (__merit_service_state) = first' -a disable -d 'do not start the service at boot (does not stop it now)'
complete -c service -n 'test (__merit_service_state) = first' -a start -d 'start what the service needs, then the service, each waited for until up'
complete -c service -n 'test (__merit_service_state) = first' -a stop -d 'stop the running services that need it, then the service and its logger'
complete -c service -n 'test (__merit_service_state) = first' -a status -d 'show the service'\''s status line (as s6-svstat -n)'
complete -c service -n 'test (__merit_service_state) = first' -a restart -d 'restart the service (with its ./restart script if it has one)'
complete -c service -n 'test (__merit_service_state) = first' -a reload -d 'send SIGHUP to the service'
complete -c service -n 'test (__merit_service_state) = first' -a resup -d 'stop and unsupervise the service, then supervise its current definition again'
complete -c service -n 'test (__merit_service_state) = first' -a unsup -d 'stop the service and remove it from supervision'
complete -c service -n 'test (__merit_service_state) = first' -a logs -d 'show the service'\''s log with local times'
complete -c service -n 'test (__merit_service_state) = first' -a needs -d 'list what the service needs, directly or not, in start order'
complete -c service -n 'test (__merit_service_state) = first' -a needed-by -d 'list the services that need the service, directly or not, in stop order'
complete -c service -n 'test (__merit_service_state) = first' -a graph -d 'print the dependency graph of the enabled services (Graphviz dot)'
complete -c service -n 'test (__merit_service_state) = first' -a '(__merit_service_names)' -d service
complete -c service -n 'test (__merit_service_state) = name' -a '(__merit_service_names)' -d service
complete -c service -n 'test (__merit_service_state) = command' -a enable -d 'start the service at boot (does not start it now)'
complete -c service -n 'test (__merit_service_state) = command' -a disable -d 'do not start the service at boot (does not stop it now)'
complete -c service -n 'test (__merit_service_state) = command' -a start -d 'start what the service needs, then the service, each waited for until up'
complete -c service -n 'test (__merit_service_state) = command' -a stop -d 'stop the running services that need it, then the service and its logger'
complete -c service -n 'test (__merit_service_state) = command' -a status -d 'show the service'\''s status line (as s6-svstat -n)'
complete -c service -n 'test (__merit_service_state) = command' -a restart -d 'restart the service (with its ./restart script if it has one)'
complete -c service -n 'test (__merit_service_state) = command' -a reload -d 'send SIGHUP to the service'
complete -c service -n 'test (__merit_service_state) = command' -a resup -d 'stop and unsupervise the service, then supervise its current definition again'
complete -c service -n 'test (__merit_service_state) = command' -a unsup -d 'stop the service and remove it from supervision'
complete -c service -n 'test (__merit_service_state) = command' -a logs -d 'show the service'\''s log with local times'
complete -c service -n 'test (__merit_service_state) = command' -a needs -d 'list what the service needs, directly or not, in start order'
complete -c service -n 'test (__merit_service_state) = command' -a needed-by -d 'list the services that need the service, directly or not, in stop order'
complete -c service -n 'test (__merit_service_state) = logs' -s f -d 'follow the log'
complete -c service -n 'test (__merit_service_state) = logs' -s n -x -d 'number of lines'
