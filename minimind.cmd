@echo off
rem minimind4j launcher for Windows, as ./minimind: builds the project on first use (Maven), then runs
rem `minimind <command> [options]`. MINIMIND_MAVEN_OPTS=-P... picks another build flavour; a change of flavour, or a
rem source or pom.xml newer than the jar, rebuilds (target\lib holds one set of natives).
setlocal
set "MM_HERE=%~dp0"
if "%MM_HERE:~-1%"=="\" set "MM_HERE=%MM_HERE:~0,-1%"
set "MM_JAR=%MM_HERE%\target\minimind4j.jar"
set "MM_STAMP=%MM_HERE%\target\.minimind-build-opts"
set "MM_BUILD_OPTS=%MINIMIND_MAVEN_OPTS%"
set "MM_REBUILD="
if not exist "%MM_JAR%" set "MM_REBUILD=1"
set "MM_OLD="
if exist "%MM_STAMP%" set /p MM_OLD=<"%MM_STAMP%"
if not "%MM_OLD%"=="opts:%MM_BUILD_OPTS%" set "MM_REBUILD=1"
if defined MM_REBUILD goto build
rem the same staleness test as ./minimind's `find src/main pom.xml -newer target/minimind4j.jar`
powershell -NoProfile -NonInteractive -Command "$j = (Get-Item -LiteralPath $env:MM_JAR).LastWriteTimeUtc; $files = @(Get-ChildItem -LiteralPath (Join-Path $env:MM_HERE 'src\main') -Recurse -File) + @(Get-Item -LiteralPath (Join-Path $env:MM_HERE 'pom.xml')); if ($files | Where-Object { $_.LastWriteTimeUtc -gt $j } | Select-Object -First 1) { exit 1 } else { exit 0 }"
if errorlevel 1 goto build
goto run

:build
echo minimind: building (mvn -q -DskipTests %MM_BUILD_OPTS% package) ... 1>&2
if exist "%MM_HERE%\target\lib" rmdir /s /q "%MM_HERE%\target\lib"
set "MM_LOG=%TEMP%\minimind-build-%RANDOM%%RANDOM%.log"
pushd "%MM_HERE%"
call mvn -q -B -DskipTests %MM_BUILD_OPTS% package >"%MM_LOG%" 2>&1
set "MM_RC=%ERRORLEVEL%"
popd
if not "%MM_RC%"=="0" (
  type "%MM_LOG%" 1>&2
  del "%MM_LOG%" >nul 2>&1
  exit /b 1
)
del "%MM_LOG%" >nul 2>&1
>"%MM_STAMP%" echo opts:%MM_BUILD_OPTS%

:run
set "MM_NATIVE="
rem Java 22+ warns about JNI without this; Java 17 does not know the flag
java --enable-native-access=ALL-UNNAMED -version >nul 2>&1 && set "MM_NATIVE=--enable-native-access=ALL-UNNAMED"
rem Replies are UTF-8 (Chinese text): switch the console to code page 65001 for the run, then restore it.
set "MM_CP="
for /f "tokens=2 delims=:" %%c in ('chcp') do set "MM_CP=%%c"
if defined MM_CP set "MM_CP=%MM_CP: =%"
if defined MM_CP set "MM_CP=%MM_CP:.=%"
chcp 65001 >nul 2>&1
java -Xss4m "-Dminimind.home=%MM_HERE%" "-Dminimind.command=%~f0" %MM_NATIVE% %MINIMIND_JAVA_OPTS% -cp "%MM_JAR%;%MM_HERE%\target\lib\*" minimind4j.cli.Minimind %*
set "MM_RC=%ERRORLEVEL%"
if defined MM_CP chcp %MM_CP% >nul 2>&1
exit /b %MM_RC%
